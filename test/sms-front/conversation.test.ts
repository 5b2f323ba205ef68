/**
 * Conversations by SMS through the fake gateways: a bill inquiry in Arabic-Indic digits, pay
 * then receipt, STOP / START / HELP in both languages (also in the middle of a conversation),
 * garbage and oversized input answered with the one-segment short help.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { measureSms } from '../../src/sms/sms-renderer.js';
import { settle, nth, startSms, twilioInbound, twilioTo, type SmsRig } from './rig.js';

describe('SMS conversations', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms();
  });
  after(async () => {
    await rig.close();
  });

  let n = 0;
  /** Sends a text and returns the reply (the next text the number gets). */
  async function say(from: string, text: string): Promise<string> {
    const before = twilioTo(rig, from).length;
    const res = await twilioInbound(rig, from, text);
    assert.equal(res.status, 200);
    n++;
    return nth(rig, from, before + 1);
  }

  it('answers a bill inquiry with Arabic-Indic digits in one segment, numbered choices', async () => {
    const reply = await say('+963944300001', 'فاتورة كهرباء ١٠٠٠١٠١');
    assert.match(reply, /^الكهرباء 1000101: /);
    assert.match(reply, /1\) ?ادفع/);
    assert.doesNotMatch(reply, /[\u2066-\u2069]/, 'no isolation marks');
    assert.equal(measureSms(reply).parts, 1, reply);
  });

  it('pays by choice number and sends the receipt by SMS', async () => {
    const from = '+963944300002';
    const bill = await say(from, 'فاتورة كهرباء 1000201');
    assert.match(bill, /1\) ?ادفع/);
    const started = await say(from, '1');
    assert.match(started, /^دفعة P-[0-9A-Z]{10}: /);
    const ref = /P-[0-9A-Z]{10}/.exec(started)![0];
    const receipt = await nth(rig, from, 3);
    assert.match(receipt, new RegExp(`^إيصال: دُفع .+ المرجع ${ref}$`));
    assert.ok(measureSms(receipt).parts <= 2);
  });

  for (const [lang, stop, start, help] of [
    ['ar', 'إيقاف', 'بدء', 'مساعدة'],
    ['en', 'STOP', 'START', 'HELP'],
  ] as const) {
    it(`STOP / START / HELP (${lang}) win over an open conversation; opted out gets nothing`, async () => {
      const from = lang === 'ar' ? '+963944300003' : '+963944300004';
      // An open question: the numbered choices under a bill (answering "1" would pay). A PAY
      // here would start a payment whose receipt races the replies below.
      const asked = await say(from, lang === 'ar' ? 'فاتورة مياه 2000101' : 'BILL water 2000101');
      assert.match(asked, /1\) ?(ادفع|Pay)/i);
      const helped = await say(from, help);
      assert.equal(measureSms(helped).parts, 1, helped);
      assert.match(helped, lang === 'ar' ? /فاتورة/ : /BILL/);
      const stopped = await say(from, stop);
      assert.match(stopped, lang === 'ar' ? /إيقاف|بدء/ : /START/);
      const count = twilioTo(rig, from).length;
      await twilioInbound(rig, from, lang === 'ar' ? 'فاتورة كهرباء 1000101' : 'BILL elec 1000101');
      await twilioInbound(rig, from, '1');
      await settle(rig);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(twilioTo(rig, from).length, count, 'nothing after the STOP confirmation');
      const identity = await rig.t.tasdeed.store.findIdentity('sms', from);
      assert.equal(identity?.optedOut, true);
      const back = await say(from, start);
      assert.ok(back.length > 0);
      assert.equal((await rig.t.tasdeed.store.findIdentity('sms', from))?.optedOut, false);
      const bill = await say(from, lang === 'ar' ? 'فاتورة كهرباء 1000101' : 'BILL elec 1000101');
      assert.match(bill, /1000101/);
    });
  }

  it('answers garbage and a 1,500-character text with the one-segment short help', async () => {
    const from = '+963944300005';
    const garbage = await say(from, '؟؟ xx ## ٪٪');
    assert.match(garbage, /^لم أفهم/);
    assert.equal(measureSms(garbage).parts, 1, garbage);
    const long = await say(from, 'ب'.repeat(1_500));
    assert.match(long, /^لم أفهم/);
    assert.equal(measureSms(long).parts, 1, long);
    assert.ok(n > 0);
  });
});
