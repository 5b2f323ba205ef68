import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { Translator } from '../../src/core/i18n/translator.js';
import { cleanSmsText, measureSms, packSms, renderSmsTurn } from '../../src/sms/sms-renderer.js';

const loaded = loadCatalogue(null);
if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
const translator = new Translator(loaded.catalogue);

describe('measureSms', () => {
  it('counts Arabic as UCS-2: 70 in one part, 67 per part beyond', () => {
    assert.deepEqual(measureSms('ب'.repeat(70)), { encoding: 'UCS-2', units: 70, parts: 1 });
    assert.deepEqual(measureSms('ب'.repeat(71)), { encoding: 'UCS-2', units: 71, parts: 2 });
    assert.equal(measureSms('ب'.repeat(134)).parts, 2);
    assert.equal(measureSms('ب'.repeat(135)).parts, 3);
  });

  it('counts GSM-7 Latin text: 160 in one part, 153 per part beyond', () => {
    assert.deepEqual(measureSms('a'.repeat(160)), { encoding: 'GSM-7', units: 160, parts: 1 });
    assert.equal(measureSms('a'.repeat(161)).parts, 2);
    assert.equal(measureSms('a'.repeat(306)).parts, 2);
    assert.equal(measureSms('a'.repeat(307)).parts, 3);
  });

  it('counts GSM-7 escapes (€) as two and makes an emoji turn the message UCS-2', () => {
    assert.deepEqual(measureSms('€'.repeat(80)), { encoding: 'GSM-7', units: 160, parts: 1 });
    assert.equal(measureSms('€'.repeat(81)).parts, 2);
    const emoji = measureSms(`Paid ${'a'.repeat(60)} ✅`);
    assert.equal(emoji.encoding, 'UCS-2');
    assert.equal(measureSms('😀'.repeat(35)).parts, 1);
    assert.equal(measureSms('😀'.repeat(36)).parts, 2);
  });

  it('turns one Arabic letter in English text into UCS-2', () => {
    assert.equal(measureSms(`Following ${'a'.repeat(60)} (م***)`).encoding, 'UCS-2');
  });
});

describe('cleanSmsText', () => {
  it('strips Fluent isolation marks and trims', () => {
    assert.equal(cleanSmsText(' \u2068الكهرباء\u2069 \u20681234567\u2069\r\n'), 'الكهرباء 1234567');
  });
});

describe('renderSmsTurn', () => {
  const ar = { language: 'ar' as const, showOldPounds: false };

  it('renders the SMS variant with no isolation marks and numbered choices at the end', () => {
    const turn = renderSmsTurn(
      translator,
      {
        replies: [
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
        ],
        choices: [
          { key: 'choice-pay', payload: 'PAY electricity 1234567' },
          { key: 'choice-follow', payload: 'ADD electricity 1234567' },
        ],
      },
      ar,
    );
    assert.equal(turn.messages.length, 1);
    const [message] = turn.messages;
    assert.equal(message!.text, 'الكهرباء 1234567: 18750 ل.س، 9-10، حتى 28/11\n1) ادفع 2) تابع');
    assert.doesNotMatch(message!.text, /[\u2068\u2069]/);
    assert.equal(message!.parts, 1);
    assert.deepEqual(
      turn.choices.map((c) => c.payload),
      ['PAY electricity 1234567', 'ADD electricity 1234567'],
    );
  });

  it('uses the .sms attribute of a message', () => {
    const turn = renderSmsTurn(translator, { replies: [{ key: 'help' }], choices: [] }, ar);
    assert.equal(
      turn.messages[0]!.text,
      cleanSmsText(translator.render({ key: 'help' }, { language: 'ar', medium: 'sms' })),
    );
    assert.equal(turn.messages[0]!.parts, 1);
  });

  it('packs short replies into one message while it fits one part', () => {
    const messages = packSms(['حساباتك (2):', 'الكهرباء 1234567', 'المياه 7654321'], []);
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.text, 'حساباتك (2):\nالكهرباء 1234567\nالمياه 7654321');
  });

  it('does not pack replies when the result would take a second part', () => {
    const messages = packSms(['ب'.repeat(40), 'ت'.repeat(40)], []);
    assert.equal(messages.length, 2);
    assert.ok(messages.every((m) => m.parts === 1));
  });

  it('compacts the numbering, then moves choices to their own message, rather than pay a second part', () => {
    const compact = packSms(['ب'.repeat(55)], ['ادفع', 'تابع']);
    assert.equal(compact.length, 1);
    assert.equal(compact[0]!.text, `${'ب'.repeat(55)}\n1)ادفع 2)تابع`);
    assert.equal(compact[0]!.parts, 1);
    const moved = packSms(['ب'.repeat(65)], ['ادفع', 'تابع']);
    assert.deepEqual(
      moved.map((m) => m.text),
      ['ب'.repeat(65), '1) ادفع 2) تابع'],
    );
    assert.ok(moved.every((m) => m.parts === 1));
  });

  it('sends choices alone when there is no reply', () => {
    assert.deepEqual(
      packSms([], ['Pay']).map((m) => m.text),
      ['1) Pay'],
    );
  });
});
