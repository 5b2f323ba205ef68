/**
 * What the console's pages rely on besides the server: the browser's SMS parts counter agrees
 * with the server's measure, and the console's texts exist in both languages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { ConsoleText } from '../../src/http/console/console-text.js';
import { measureSms } from '../../src/sms/sms-renderer.js';

await import('../../src/http/console/assets/sms-parts.js');
const browserMeasure = globalThis.TasdeedSms.measure;

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('SMS parts counted in the browser (sms-parts.js)', () => {
  it('agrees with the server on the texts staff write', () => {
    const texts = [
      '',
      'a',
      'x'.repeat(160),
      'x'.repeat(161),
      'x'.repeat(306),
      'x'.repeat(307),
      '€'.repeat(80),
      '€'.repeat(81),
      'a€'.repeat(60),
      'ا'.repeat(70),
      'ا'.repeat(71),
      'ا'.repeat(134),
      'ا'.repeat(135),
      'انقطاع مجدول للكهرباء في دمشق يوم الجمعة من الساعة 9 حتى 14. نعتذر عن الإزعاج.',
      'بِسْمِ اللَّهِ '.repeat(12),
      '😀'.repeat(35),
      '😀'.repeat(36),
      'a😀'.repeat(40),
      '\r\n'.repeat(100),
      'Scheduled outage in Damascus on Friday, 9:00-14:00. {Sorry} [for] the ~trouble~ | ^',
    ];
    for (const text of texts)
      assert.deepEqual(browserMeasure(text), measureSms(text), JSON.stringify(text.slice(0, 30)));
  });

  it('agrees on thousands of mixed texts (Arabic, diacritics, emoji, GSM escapes)', () => {
    const alphabet = [
      'a',
      'Z',
      '€',
      '[',
      ' ',
      '1',
      'ا',
      'ب',
      'ِ',
      'ـ',
      '٣',
      '😀',
      '👍🏽',
      '👨‍👩‍👧',
      '\n',
      '\r',
      'é',
      'Ω',
    ];
    const next = random(7);
    for (let i = 0; i < 3_000; i++) {
      // Half of them only GSM-7 characters, so that both encodings get long texts.
      const pool = next() < 0.5 ? alphabet.slice(0, 6) : alphabet;
      let text = '';
      const length = Math.floor(next() * 400);
      for (let j = 0; j < length; j++) text += pool[Math.floor(next() * pool.length)];
      assert.deepEqual(browserMeasure(text), measureSms(text), JSON.stringify(text));
    }
  });
});

describe('console texts', () => {
  const loaded = loadCatalogue(null);
  assert.ok(loaded.ok);
  const text = new ConsoleText(loaded.catalogue);

  it('has every message in Arabic and in English', () => {
    assert.deepEqual(text.keys('en').sort(), text.keys('ar').sort());
    assert.ok(text.keys('ar').length > 100);
  });

  it('names governorates, billers and channels in the page language', () => {
    assert.equal(text.governorate('IDL', 'ar'), 'إدلب');
    assert.equal(text.governorate(null, 'en'), 'Unknown');
    assert.equal(text.biller('electricity', 'en'), 'Electricity');
    assert.equal(text.identityChannel('sandbox-sms', 'en'), 'SMS (sandbox)');
    assert.throws(() => text.t('ar', 'no-such-key'), /missing in ar/);
  });
});
