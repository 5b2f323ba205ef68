import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
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

/**
 * Over budget in the current locales/*.ftl, with shorter `.sms` texts proposed to the lead (who
 * owns the .ftl files): see PROPOSED below. Remove an entry once its text is pasted.
 */
const KNOWN_OVER = ['bill-line:ar', 'followed:en'];

/** The proposed `.sms` attributes, checked below against the same worst case. */
const PROPOSED: Record<'ar' | 'en', Record<string, string>> = {
  ar: { 'bill-line': '{ $biller } { $account }: { $amount }، { $period }، حتى { $due }' },
  en: { followed: 'Following { $biller } { $account } ({ $holder }).' },
};

/** A copy of the .ftl files with `.sms` attributes set (replaced when present). */
function withSmsAttributes(dir: string): void {
  for (const language of ['ar', 'en'] as const) {
    const lines = readFileSync(join('locales', `${language}.ftl`), 'utf8').split('\n');
    const out: string[] = [];
    let skipSmsOf: string | null = null;
    for (const line of lines) {
      if (skipSmsOf && /^\s+\.sms\s*=/.test(line)) continue;
      skipSmsOf = null;
      out.push(line);
      const key = /^([a-z][\w-]*)\s*=/.exec(line)?.[1];
      const text = key ? PROPOSED[language][key] : undefined;
      if (key && text) {
        out.push(`    .sms = ${text}`);
        skipSmsOf = key;
      }
    }
    writeFileSync(join(dir, `${language}.ftl`), out.join('\n'));
  }
}

describe('SMS segment budget', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tasdeed-sms-budget-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

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

  it('keeps every other message within its budget', () => {
    const over = overBudget(rows).filter((r) => !KNOWN_OVER.includes(id(r)));
    assert.deepEqual(
      over.map((r) => `${id(r)} ${r.units} ${r.encoding}: ${r.text}`),
      [],
    );
  });

  it(
    'keeps every message within its budget',
    { todo: `shorten: ${KNOWN_OVER.join(', ')} (texts proposed in PROPOSED)` },
    () => {
      assert.deepEqual(overBudget(rows).map(id), []);
    },
  );

  it('fits with the proposed .sms texts', () => {
    withSmsAttributes(tmp);
    const patched = checkSmsBudget(new Translator(catalogue, tmp), catalogue, { localesDir: tmp });
    assert.deepEqual(
      overBudget(patched).map((r) => `${id(r)} ${r.units}: ${r.text}`),
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
