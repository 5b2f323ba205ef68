import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { formatDate, stripIsolation, Translator } from '../../src/core/i18n/translator.js';

const catalogue = loadCatalogue(null);
if (!catalogue.ok) throw new Error(catalogue.problems.join('\n'));
const translator = new Translator(catalogue.catalogue);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // The staff console has its own locale files (locales/console.*.ftl) and its own test.
    if (statSync(path).isDirectory())
      return name === 'generated' || path === join('src', 'http', 'console')
        ? []
        : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('Translator', () => {
  it('has the same messages in Arabic and English', () => {
    assert.deepEqual(translator.keys('ar').sort(), translator.keys('en').sort());
  });

  it('has every message key the code uses', () => {
    const used = new Set<string>();
    for (const file of sourceFiles('src')) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/reply\('([a-z-]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/\bkey: '([a-z-]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/reply\([^,()]*\? '([a-z-]+)' : '([a-z-]+)'/g)) {
        used.add(m[1]!);
        used.add(m[2]!);
      }
    }
    assert.ok(used.size > 30, `found only ${used.size} keys`);
    const missing = [...used].filter((k) => !translator.has(k, 'ar') || !translator.has(k, 'en'));
    assert.deepEqual(missing, []);
  });

  it('renders a bill line in Arabic with ASCII digits, one SMS segment long', () => {
    const text = stripIsolation(
      translator.render(
        {
          key: 'bill-line',
          args: {
            biller: { biller: 'electricity' },
            account: '1234567',
            amount: { money: 1_875_000 },
            period: '9-10',
            due: { date: '2026-11-28' },
          },
        },
        { language: 'ar', medium: 'sms' },
      ),
    );
    assert.equal(text, 'الكهرباء 1234567: 18750 ل.س، 9-10، حتى 28/11');
    assert.ok(text.length <= 70);
  });

  it('says "overdue" instead of a date gone by; a line queued without that argument renders as before', () => {
    const args = {
      biller: { biller: 'electricity' },
      account: '1234567',
      amount: { money: 1_875_000 },
      period: '9-10',
      due: { date: '2025-11-28' },
    };
    const render = (
      overdue: string | undefined,
      language: 'ar' | 'en',
      medium: 'sms' | 'telegram',
    ) =>
      stripIsolation(
        translator.render(
          { key: 'bill-line', args: overdue === undefined ? args : { ...args, overdue } },
          { language, medium },
        ),
      );
    assert.equal(render('yes', 'ar', 'sms'), 'الكهرباء 1234567: 18750 ل.س، 9-10، متأخرة');
    assert.equal(
      render('yes', 'en', 'sms'),
      'Electricity 1234567: 18,750 SYP, period 9-10, overdue',
    );
    assert.equal(
      render('yes', 'ar', 'telegram'),
      'الكهرباء 1234567: 18750 ل.س، دورة 9-10، متأخرة منذ 28/11/2025',
    );
    assert.equal(
      render('yes', 'en', 'telegram'),
      'Electricity 1234567: 18,750 SYP, period 9-10, overdue since 28/11/2025',
    );
    assert.equal(render(undefined, 'ar', 'sms'), 'الكهرباء 1234567: 18750 ل.س، 9-10، حتى 28/11');
  });

  it('shows old pounds on request', () => {
    const text = stripIsolation(
      translator.render(
        {
          key: 'receipt',
          args: {
            amount: { money: 100 },
            biller: { biller: 'water' },
            account: '1',
            channel: { channel: 'bank' },
            ref: 'P-1',
          },
        },
        {
          language: 'en',
          medium: 'telegram',
          showOldPounds: true,
        },
      ),
    );
    assert.match(text, /1 SYP \(100 old\)/);
  });

  it('keeps Fluent isolation marks for Telegram and can strip them', () => {
    const text = translator.render(
      { key: 'gov-set', args: { gov: { gov: 'DAM' } } },
      { language: 'ar', medium: 'telegram' },
    );
    assert.match(text, /\u2068دمشق\u2069/);
    assert.equal(stripIsolation(text), 'محافظتك: دمشق');
  });

  it('speaks of age with Arabic plural forms', () => {
    const age = (ms: number) =>
      stripIsolation(
        translator.render(
          { key: 'bill-cached', args: { biller: { biller: 'water' }, age: { ago: ms } } },
          { language: 'ar', medium: 'telegram' },
        ),
      );
    assert.match(age(2 * 3_600_000), /منذ ساعتين/);
    assert.match(age(5 * 3_600_000), /منذ 5 ساعات/);
    assert.match(age(3 * 86_400_000), /منذ 3 أيام/);
  });

  it('formats dates short on SMS and whole elsewhere', () => {
    assert.equal(formatDate('2026-11-28', 'sms'), '28/11');
    assert.equal(formatDate('2026-11-28', 'telegram'), '28/11/2026');
  });
});
