import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isAlphanumericSender,
  isE164,
  isReplyableSender,
  parsePhone,
} from '../../src/sms/phone.js';

describe('parsePhone', () => {
  it('parses a Syrian mobile number written locally to E.164', () => {
    assert.equal(parsePhone('0944 123 456'), '+963944123456');
    assert.equal(parsePhone('0944-123-456'), '+963944123456');
    assert.equal(parsePhone('944123456'), '+963944123456');
  });

  it('accepts Arabic-Indic and Eastern Arabic-Indic digits', () => {
    assert.equal(parsePhone('٠٩٤٤١٢٣٤٥٦'), '+963944123456');
    assert.equal(parsePhone('۰۹۴۴۱۲۳۴۵۶'), '+963944123456');
    assert.equal(parsePhone('+٩٦٣ ٩٤٤ ١٢٣ ٤٥٦'), '+963944123456');
  });

  it('accepts international forms: +, 00, and bidi marks around the number', () => {
    assert.equal(parsePhone('+963944123456'), '+963944123456');
    assert.equal(parsePhone('00963944123456'), '+963944123456');
    assert.equal(parsePhone('\u200f+963 944 123 456\u200f'), '+963944123456');
    assert.equal(parsePhone('+49 1512 3456789'), '+4915123456789');
  });

  it('refuses what is not a phone number', () => {
    assert.equal(parsePhone(''), null);
    assert.equal(parsePhone('Syriatel'), null);
    assert.equal(parsePhone('1234'), null);
    assert.equal(parsePhone('0944 123 456 789 000'), null);
    assert.equal(parsePhone('call 0944123456'), null);
  });

  it('recognises canonical E.164', () => {
    assert.equal(isE164('+963944123456'), true);
    assert.equal(isE164('0944123456'), false);
    assert.equal(isE164('+963 944 123 456'), false);
  });
});

describe('isAlphanumericSender', () => {
  it('is true for names of carriers and services, in any script', () => {
    for (const from of ['Syriatel', 'MTN', 'MTN-SY', 'BANK2', 'سيريتل', 'Twilio']) {
      assert.equal(isAlphanumericSender(from), true, from);
    }
  });

  it('is false for numbers', () => {
    for (const from of ['+963944123456', '0944123456', '٠٩٤٤١٢٣٤٥٦', '1234']) {
      assert.equal(isAlphanumericSender(from), false, from);
    }
  });

  it('answers only senders that are phone numbers (not names, not short codes)', () => {
    assert.equal(isReplyableSender('+963944123456'), true);
    assert.equal(isReplyableSender('Syriatel'), false);
    assert.equal(isReplyableSender('1234'), false);
  });
});
