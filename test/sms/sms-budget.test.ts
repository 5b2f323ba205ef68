import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { Translator } from '../../src/core/i18n/translator.js';
import {
  checkSmsBudget,
  formatBudgetTable,
  overBudget,
  telegramOnlyKeys,
  TWO_PART_KEYS,
  type BudgetRow,
} from '../../src/sms/sms-budget.js';

const loaded = loadCatalogue(null);
if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
const catalogue = loaded.catalogue;
const rows = checkSmsBudget(new Translator(catalogue), catalogue);
const id = (r: Pick<BudgetRow, 'key' | 'language'>) => `${r.key}:${r.language}`;

describe('SMS segment budget', () => {
  it('covers every SMS message in both languages', () => {
    const translator = new Translator(catalogue);
    for (const language of ['ar', 'en'] as const) {
      const skip = telegramOnlyKeys(language);
      const expected = translator
        .keys(language)
        .filter((k) => !skip.has(k))
        .sort();
      const got = rows
        .filter((r) => r.language === language)
        .map((r) => r.key)
        .sort();
      assert.deepEqual(got, expected);
    }
    assert.ok(rows.length > 100);
  });

  it('knows a worst case for every variable', () => {
    assert.deepEqual(
      rows
        .filter((r) => r.unknownArgs.length > 0)
        .map((r) => `${id(r)} ${r.unknownArgs.join(',')}`),
      [],
    );
  });

  it('allows two parts only where a reason is written down', () => {
    for (const row of rows) {
      assert.equal(row.budget, TWO_PART_KEYS[row.key] ? 2 : 1, row.key);
      if (row.budget === 2) assert.ok((row.reason ?? '').length > 20);
    }
  });

  it('keeps every message within its budget', () => {
    assert.deepEqual(
      overBudget(rows).map((r) => `${id(r)} ${r.units} ${r.encoding}: ${r.text}`),
      [],
    );
  });

  it('fits HELP and the not-understood reply in one part (issue 4)', () => {
    for (const row of rows.filter((r) => r.key === 'help' || r.key === 'help-short')) {
      assert.equal(row.parts, 1, id(row));
    }
  });

  it('prints a table with a line per message', () => {
    const table = formatBudgetTable(rows);
    assert.match(table.split('\n')[0]!, /^key\s+lang\s+chars\s+encoding\s+parts\s+budget/);
    assert.equal(table.split('\n').length, rows.length + 1);
  });
});
