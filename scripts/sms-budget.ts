/**
 * `npm run sms:budget`: every SMS message in Arabic and English at its worst-case length, its
 * encoding and parts (src/sms/sms-budget.ts says what "worst case" means). Exits 1 when any
 * message exceeds its budget.
 */
import { loadCatalogue } from '../src/config/catalogue.js';
import { Translator } from '../src/core/i18n/translator.js';
import {
  checkSmsBudget,
  formatBudgetTable,
  overBudget,
  TWO_PART_KEYS,
} from '../src/sms/sms-budget.js';

const loaded = loadCatalogue(process.env.TASDEED_CATALOGUE?.trim() || null);
if (!loaded.ok) {
  console.error(loaded.problems.join('\n'));
  process.exit(2);
}
const rows = checkSmsBudget(new Translator(loaded.catalogue), loaded.catalogue);
console.log(formatBudgetTable(rows));
console.log('');
for (const [key, reason] of Object.entries(TWO_PART_KEYS))
  console.log(`two parts allowed: ${key} — ${reason}`);
for (const r of rows.filter((row) => row.unknownArgs.length > 0)) {
  console.log(
    `no worst case for ${r.unknownArgs.join(', ')} in ${r.key} (${r.language}): add it to src/sms/sms-budget.ts`,
  );
}
const over = overBudget(rows);
if (over.length > 0) {
  console.log('');
  console.log(`${over.length} message(s) over budget:`);
  for (const r of over)
    console.log(
      `  ${r.key} (${r.language}, ${r.units} ${r.encoding}, ${r.parts} parts): ${r.text}`,
    );
  process.exit(1);
}
console.log(`all ${rows.length} messages within budget`);
