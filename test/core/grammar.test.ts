import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { Grammar } from '../../src/core/conversation/grammar.js';

const catalogue = loadCatalogue(null);
if (!catalogue.ok) throw new Error(catalogue.problems.join('\n'));
const grammar = new Grammar(catalogue.catalogue);

describe('the text grammar (docs/design.md §9)', () => {
  const cases: Array<[string, unknown]> = [
    ['فاتورة كهرباء 1000101', { type: 'bill', billerId: 'electricity', account: '1000101' }],
    ['فاتوره الكهرباء ١٠٠٠١٠١', { type: 'bill', billerId: 'electricity', account: '1000101' }],
    ['فـاتورة كهرباء ۱۰۰۰۱۰۱', { type: 'bill', billerId: 'electricity', account: '1000101' }],
    ['BILL elec 1000101', { type: 'bill', billerId: 'electricity', account: '1000101' }],
    ['bill 1000101 water', { type: 'bill', billerId: 'water', account: '1000101' }],
    ['فاتورة', { type: 'bill' }],
    ['BILL', { type: 'bill' }],
    ['ادفع كهرباء 1000101', { type: 'pay', billerId: 'electricity', account: '1000101' }],
    [
      'PAY elec 1000101 syriatel',
      { type: 'pay', billerId: 'electricity', account: '1000101', channelId: 'syriatel-cash' },
    ],
    [
      'ادفع كهرباء 1000101 بنك',
      { type: 'pay', billerId: 'electricity', account: '1000101', channelId: 'bank' },
    ],
    ['اشترك مياه 2000301', { type: 'add', billerId: 'water', account: '2000301' }],
    ['ADD water 2000301', { type: 'add', billerId: 'water', account: '2000301' }],
    ['حساباتي', { type: 'accounts' }],
    ['ACCOUNTS', { type: 'accounts' }],
    ['حذف مياه 2000301', { type: 'remove', billerId: 'water', account: '2000301' }],
    ['REMOVE water 2000301', { type: 'remove', billerId: 'water', account: '2000301' }],
    ['تذكير تشغيل', { type: 'remind', on: true }],
    ['تذكير إيقاف', { type: 'remind', on: false }],
    ['REMIND ON', { type: 'remind', on: true }],
    ['remind off', { type: 'remind', on: false }],
    ['عربي', { type: 'language', language: 'ar' }],
    ['ENGLISH', { type: 'language', language: 'en' }],
    ['أخبرني كهرباء', { type: 'notify', target: { kind: 'biller', id: 'electricity' } }],
    ['NOTIFY water', { type: 'notify', target: { kind: 'biller', id: 'water' } }],
    ['محافظة ريف دمشق', { type: 'gov', code: 'RIF' }],
    ['محافظة دمشق', { type: 'gov', code: 'DAM' }],
    ['GOV HOM', { type: 'gov', code: 'HOM' }],
    ['gov aleppo', { type: 'gov', code: 'ALE' }],
    // Spaces and dashes inside a governorate's name are optional; the article too.
    ['محافظة ديرالزور', { type: 'gov', code: 'DEZ' }],
    ['محافظة دير الزور', { type: 'gov', code: 'DEZ' }],
    ['محافظة زور', { type: 'gov', code: null }],
    ['محافظة الحسكة', { type: 'gov', code: 'HAS' }],
    ['محافظة حسكة', { type: 'gov', code: 'HAS' }],
    ['GOV deir ezzor', { type: 'gov', code: 'DEZ' }],
    ['gov rif-dimashq', { type: 'gov', code: 'RIF' }],
    // A biller with or without the article, whichever form the catalogue gives.
    ['فاتورة الإنترنت 3000101', { type: 'bill', billerId: 'telecom', account: '3000101' }],
    ['فاتورة انترنت 3000101', { type: 'bill', billerId: 'telecom', account: '3000101' }],
    ['فاتورة المياه 2000301', { type: 'bill', billerId: 'water', account: '2000301' }],
    ['فاتورة مياه 2000301', { type: 'bill', billerId: 'water', account: '2000301' }],
    ['فاتورة الاتصالات 3000101', { type: 'bill', billerId: 'telecom', account: '3000101' }],
    ['فاتورة اتصالات 3000101', { type: 'bill', billerId: 'telecom', account: '3000101' }],
    ['قديم', { type: 'old' }],
    ['OLD', { type: 'old' }],
    ['الغاء', { type: 'cancel' }],
    ['CANCEL', { type: 'cancel' }],
    ['إيقاف', { type: 'stop' }],
    ['STOP', { type: 'stop' }],
    ['unsubscribe', { type: 'stop' }],
    ['بدء', { type: 'start' }],
    ['START', { type: 'start' }],
    ['مساعدة', { type: 'help' }],
    ['؟', { type: 'help' }],
    ['?', { type: 'help' }],
    ['HELP', { type: 'help' }],
    ['2', { type: 'choice', index: 2 }],
    ['٢', { type: 'choice', index: 2 }],
    [
      'فاتورة كهرباء',
      { type: 'incomplete', intent: 'bill', problem: 'account', billerId: 'electricity' },
    ],
    [
      'فاتورة 1000101',
      { type: 'incomplete', intent: 'bill', problem: 'biller', account: '1000101' },
    ],
    [
      'BILL elec 12ab',
      { type: 'incomplete', intent: 'bill', problem: 'account', billerId: 'electricity' },
    ],
    [
      'BILL elec 123',
      {
        type: 'incomplete',
        intent: 'bill',
        problem: 'account',
        billerId: 'electricity',
        account: '123',
      },
    ],
    // Pasted from one of the bot's own messages: Fluent isolates every argument (U+2068 … U+2069).
    [
      'فاتورة كهرباء \u20681000101\u2069',
      { type: 'bill', billerId: 'electricity', account: '1000101' },
    ],
    [
      'PAY \u2068Electricity\u2069 \u20681000101\u2069',
      { type: 'pay', billerId: 'electricity', account: '1000101' },
    ],
    ['\u20682\u2069', { type: 'choice', index: 2 }],
    ['مرحبا', { type: 'unknown' }],
    ['🙂🙂', { type: 'unknown' }],
    ['', { type: 'unknown' }],
    ['x'.repeat(1500), { type: 'unknown' }],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${JSON.stringify(text.length > 40 ? `${text.slice(0, 10)}… (${text.length} chars)` : text)}`, () => {
      assert.deepEqual(grammar.parse(text), expected);
    });
  }

  it('accepts internal commands only from button payloads', () => {
    assert.deepEqual(grammar.parse('WATCHPAY P-ABCDEF1234', { fromPayload: true }), {
      type: 'watch-payment',
      paymentId: 'P-ABCDEF1234',
    });
    assert.deepEqual(grammar.parse('WATCHPAY P-ABCDEF1234'), { type: 'unknown' });
  });
});
