import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asciiDigits,
  isLatinScript,
  normalizeForMatch,
  stripInvisible,
} from '../../src/core/text/normalize.js';

describe('normalizeForMatch', () => {
  it('turns Arabic-Indic and Eastern Arabic-Indic digits into ASCII', () => {
    assert.equal(asciiDigits('١٢٣٤٥٦٧'), '1234567');
    assert.equal(asciiDigits('۱۲۳۴۵۶۷'), '1234567');
    assert.equal(normalizeForMatch('فاتورة كهرباء ١٠٠٠١٠١'), 'فاتوره كهرباء 1000101');
  });

  it('drops tatweel, diacritics and stray bidi marks', () => {
    assert.equal(normalizeForMatch('فـــاتُورَة'), 'فاتوره');
    assert.equal(normalizeForMatch('\u200fفاتورة\u200e \u2068كهرباء\u2069'), 'فاتوره كهرباء');
  });

  it('strips only the invisible characters, keeping digits as typed', () => {
    assert.equal(stripInvisible('\u2068١٠٠٠١٠١\u2069'), '١٠٠٠١٠١');
    assert.equal(stripInvisible('\ufeff\u200f0944\u200b123\u061c456\u202c'), '0944123456');
    assert.equal(stripInvisible('فاتورة كهرباء'), 'فاتورة كهرباء');
  });

  it('unifies alef, teh marbuta and yeh forms', () => {
    assert.equal(normalizeForMatch('أإآا'), 'اااا');
    assert.equal(normalizeForMatch('ة'), normalizeForMatch('ه'));
    assert.equal(normalizeForMatch('عربى'), 'عربي');
    assert.equal(normalizeForMatch('إلغاء'), normalizeForMatch('الغاء'));
  });

  it('lower-cases Latin and collapses whitespace', () => {
    assert.equal(normalizeForMatch('  BILL   Elec\t1000101 '), 'bill elec 1000101');
  });

  it('tells Latin-script messages from Arabic ones', () => {
    assert.equal(isLatinScript('BILL elec 123'), true);
    assert.equal(isLatinScript('فاتورة elec'), false);
    assert.equal(isLatinScript('123456'), false);
    // Arabic-Indic and Eastern Arabic-Indic digits are digits, not Arabic letters.
    assert.equal(isLatinScript('Bill electricity ١٠٠٠١٠١'), true);
    assert.equal(isLatinScript('PAY water ۲۰۰۰۳۰۱'), true);
    assert.equal(isLatinScript('فاتورة ١٠٠٠١٠١'), false);
    assert.equal(isLatinScript('١٠٠٠١٠١'), false);
  });
});
