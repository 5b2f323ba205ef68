/**
 * Conversations by SMS through the fake gateways: a bill inquiry in Arabic-Indic digits, pay
 * then receipt, STOP / START / HELP in both languages (also in the middle of a conversation),
 * garbage and oversized input answered with the one-segment short help.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { measureSms } from '../../src/sms/sms-renderer.js';
import { waitFor } from '../support/harness.js';
import {
  settledFor,
  nth,
  startSms,
  twilioInbound,
  twilioInboundWith,
  twilioTo,
  type SmsRig,
} from './rig.js';

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
    assert.ok(measureSms(receipt).parts <= 2, receipt);
  });

  /** The question left open for this number, or null. */
  async function pendingOf(from: string): Promise<string | null> {
    const identity = await rig.t.tasdeed.store.findIdentity('sms', from);
    assert.ok(identity, `${from} is known`);
    return (await rig.t.tasdeed.store.getSubscriber(identity.subscriberId))?.pending ?? null;
  }

  async function optedOut(from: string): Promise<boolean | undefined> {
    return (await rig.t.tasdeed.store.findIdentity('sms', from))?.optedOut;
  }

  /** Sends texts and waits until they are processed and their replies are out. */
  async function quietly(from: string, ...texts: string[]): Promise<void> {
    for (const text of texts) await twilioInbound(rig, from, text);
    await settledFor(rig, from);
  }

  for (const [lang, stop, start, help, ask] of [
    ['ar', 'إيقاف', 'بدء', 'مساعدة', 'فاتورة كهرباء'],
    ['en', 'STOP', 'START', 'HELP', 'ADD electricity'],
  ] as const) {
    it(`STOP / START / HELP (${lang}) win over an open question; opted out gets nothing`, async () => {
      const from = lang === 'ar' ? '+963944300003' : '+963944300004';
      // An open question that takes the next digits as its answer: the account number.
      const asked = await say(from, ask);
      assert.match(
        asked,
        lang === 'ar'
          ? /^أرسل رقم حساب الكهرباء فقط\./
          : /^Send only the Electricity account number\./,
      );
      assert.match((await pendingOf(from)) ?? '', /"kind":"account"/);
      const helped = await say(from, help);
      assert.equal(measureSms(helped).parts, 1, helped);
      assert.match(helped, lang === 'ar' ? /فاتورة/ : /BILL/);
      assert.equal(await pendingOf(from), null, 'HELP closed the question');
      const digits = await say(from, '1000101');
      assert.match(digits, lang === 'ar' ? /^لم أفهم/ : /^Sorry, I did not understand/);

      assert.match(
        await say(from, ask),
        lang === 'ar'
          ? /^أرسل رقم حساب الكهرباء فقط\./
          : /^Send only the Electricity account number\./,
      );
      const stopped = await say(from, stop);
      assert.match(stopped, lang === 'ar' ? /^تم إيقاف رسائل تسديد/ : /^Tasdeed messages stopped/);
      assert.equal(await pendingOf(from), null, 'STOP closed the question');
      assert.equal(await optedOut(from), true);
      const count = twilioTo(rig, from).length;
      await quietly(
        from,
        '1000101',
        lang === 'ar' ? 'فاتورة كهرباء 1000101' : 'BILL elec 1000101',
        '1',
        help,
      );
      assert.equal(twilioTo(rig, from).length, count, 'nothing after the STOP confirmation');
      const back = await say(from, start);
      assert.match(back, lang === 'ar' ? /تسديد/ : /Tasdeed/);
      assert.equal(await optedOut(from), false);
      const bill = await say(from, lang === 'ar' ? 'فاتورة كهرباء 1000101' : 'BILL elec 1000101');
      assert.match(bill, /1000101/);
    });
  }

  it('SMS stop words ("Stop.", OPTOUT, توقف, "stop all", "إيقاف!") stop, even with a question open', async () => {
    for (const [i, word] of ['Stop.', 'OPTOUT', 'توقف', 'stop all', 'إيقاف!'].entries()) {
      const from = `+96394430020${i}`;
      const latin = /[a-z]/i.test(word);
      assert.match(await say(from, latin ? 'ADD electricity' : 'فاتورة كهرباء'), /./);
      assert.ok(await pendingOf(from), `${word}: a question is open`);
      const stopped = await say(from, word);
      assert.match(stopped, latin ? /^Tasdeed messages stopped/ : /^تم إيقاف رسائل تسديد/, word);
      assert.equal(await optedOut(from), true, word);
      assert.equal(await pendingOf(from), null, `${word}: the question is gone`);
      const count = twilioTo(rig, from).length;
      await quietly(from, '1000101');
      assert.equal(twilioTo(rig, from).length, count, `${word}: nothing after the confirmation`);
    }
  });

  it('YES / نعم bring back an opted-out number, and are ordinary words for anyone else', async () => {
    for (const [i, yes] of ['YES', 'نعم'].entries()) {
      const from = `+96394430030${i}`;
      await say(from, 'STOP');
      assert.equal(await optedOut(from), true);
      const back = await say(from, yes);
      assert.match(back, /Tasdeed|تسديد/);
      assert.equal(await optedOut(from), false, `${yes} re-subscribed`);
      const ordinary = await say(from, yes);
      assert.match(ordinary, /^Sorry, I did not understand|^لم أفهم/, `${yes} when not opted out`);
    }
    const helped = await say('+963944300310', 'ساعدني');
    assert.match(helped, /فاتورة/);
  });

  it("acts on Twilio's OptOutType (Advanced Opt-Out) whatever the text says", async () => {
    const from = '+963944300401';
    assert.match(await say(from, 'ADD electricity'), /account number/);
    // CANCEL is one of Twilio's opt-out words: Twilio has blocked the number and answered.
    const before = twilioTo(rig, from).length;
    assert.equal(
      (await twilioInboundWith(rig, from, 'CANCEL', { OptOutType: 'STOP' })).status,
      200,
    );
    await waitFor('opted out', async () => ((await optedOut(from)) ? true : null));
    await quietly(from);
    assert.equal(await pendingOf(from), null, 'the question is gone');
    assert.equal(twilioTo(rig, from).length, before, 'Twilio sent the confirmation, not us');
    // A custom opt-in keyword we do not know ourselves.
    assert.equal((await twilioInboundWith(rig, from, 'ارجع', { OptOutType: 'START' })).status, 200);
    const back = await nth(rig, from, before + 1);
    assert.match(back, /تسديد|Tasdeed/);
    assert.equal(await optedOut(from), false);
    assert.equal((await twilioInboundWith(rig, from, 'INFO', { OptOutType: 'HELP' })).status, 200);
    assert.match(await nth(rig, from, before + 2), /BILL/);

    // Without OptOutType, CANCEL is the conversation's "cancel the open question".
    const other = '+963944300402';
    assert.match(await say(other, 'ADD electricity'), /account number/);
    assert.equal(await say(other, 'CANCEL'), 'Cancelled.');
    assert.equal(await optedOut(other), false);
  });

  it('answers garbage and a 1,500-character text with the one-segment short help', async () => {
    const from = '+963944300005';
    const garbage = await say(from, '؟؟ xx ## ٪٪');
    assert.match(garbage, /^لم أفهم/);
    assert.equal(measureSms(garbage).parts, 1, garbage);
    const long = await say(from, 'ب'.repeat(1_500));
    assert.match(long, /^لم أفهم/);
    assert.equal(measureSms(long).parts, 1, long);
    assert.ok(n > 0, 'messages were sent');
  });
});
