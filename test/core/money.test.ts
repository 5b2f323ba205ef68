import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatMoney,
  oldPoundsText,
  parsePounds,
  poundsText,
  qirsh,
} from '../../src/core/money.js';

describe('money', () => {
  it('formats qirsh as new pounds, Arabic ungrouped and English grouped', () => {
    assert.equal(formatMoney(qirsh(1_875_000), 'ar'), '18750 ل.س');
    assert.equal(formatMoney(qirsh(1_875_000), 'en'), '18,750 SYP');
    assert.equal(poundsText(qirsh(1_875_050), 'en'), '18,750.50');
    assert.equal(poundsText(qirsh(5), 'ar'), '0.05');
  });

  it('gives the old-pound equivalent (100 old pounds = 1 new pound = 100 qirsh)', () => {
    assert.equal(oldPoundsText(qirsh(1_875_000), 'en'), '1,875,000');
    assert.equal(oldPoundsText(qirsh(100), 'ar'), '100');
  });

  it('refuses fractions of a qirsh', () => {
    assert.throws(() => qirsh(1.5), RangeError);
  });

  it('parses pounds typed by people', () => {
    assert.equal(parsePounds('18750'), 1_875_000);
    assert.equal(parsePounds('18,750.5'), 1_875_050);
    assert.equal(parsePounds('abc'), null);
  });
});
