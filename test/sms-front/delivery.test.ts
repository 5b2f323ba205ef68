/**
 * SMS delivery through the outbox: provider errors mapped to retry / fail / opt-out, the reply
 * cap and the per-gateway rate cap held, replies routed back through the inbound gateway and
 * other messages by SMS_ROUTE_ prefixes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { outboxItemsOf, waitFor } from '../support/harness.js';
import {
  androidInbound,
  androidTo,
  nth,
  settle,
  settledFor,
  startSms,
  twilioInbound,
  twilioTo,
  type SmsRig,
} from './rig.js';

/** The outbox rows of an address; none while its first message is still being taken in. */
async function itemsOf(rig: SmsRig, address: string) {
  const identity = await rig.t.tasdeed.store.findIdentity('sms', address);
  return { identity, items: identity ? await outboxItemsOf(rig.t, identity.id) : [] };
}

describe('SMS delivery: provider errors', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms();
  });
  after(async () => {
    await rig.close();
  });

  it('21610 opts the number out: nothing more is sent', async () => {
    const from = '+963944400001';
    rig.twilio.failNext({
      status: 400,
      code: 21610,
      message: 'Attempt to send to unsubscribed recipient',
    });
    await twilioInbound(rig, from, 'HELP');
    await waitFor('opted out', async () =>
      (await rig.t.tasdeed.store.findIdentity('sms', from))?.optedOut ? true : null,
    );
    const { items } = await itemsOf(rig, from);
    assert.equal(items[0]?.status, 'failed');
    await twilioInbound(rig, from, 'HELP');
    await settledFor(rig, from);
    assert.equal(twilioTo(rig, from).length, 0);
  });

  it('21211 fails that message only', async () => {
    const from = '+963944400002';
    rig.twilio.failNext({ status: 400, code: 21211, message: "The 'To' number is not valid" });
    await twilioInbound(rig, from, 'HELP');
    const item = await waitFor('failed', async () => {
      const { items } = await itemsOf(rig, from);
      return items[0]?.status === 'failed' ? items[0] : null;
    });
    assert.match(item.lastError ?? '', /21211/);
    assert.equal((await rig.t.tasdeed.store.findIdentity('sms', from))?.optedOut, false);
    await twilioInbound(rig, from, 'HELP');
    await nth(rig, from, 1);
  });

  it('429 is retried, then sent', async () => {
    const from = '+963944400003';
    rig.twilio.failNext({ status: 429, code: 20429, message: 'Too Many Requests' });
    await twilioInbound(rig, from, 'HELP');
    const row = await waitFor('rescheduled', async () => {
      const { items } = await itemsOf(rig, from);
      return items[0] && items[0].attempts >= 1 && items[0].status === 'queued' ? items[0] : null;
    });
    assert.match(row.lastError ?? '', /429/);
    await waitFor(
      'sent after retry',
      async () => {
        await rig.t.tasdeed.dispatcher.drain();
        const { items } = await itemsOf(rig, from);
        return items[0]?.status === 'sent' ? items[0] : null;
      },
      20_000,
    );
    assert.equal(twilioTo(rig, from).length, 1);
  });
});

describe('SMS reply cap across a restart', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms(
      { SMS_REPLIES_PER_HOUR: '3' },
      { dir: mkdtempSync(join(tmpdir(), 'tasdeed-sms-cap-')) },
    );
  });
  after(async () => {
    await rig.close();
  });

  it('still counts the replies of the hour after the app restarts', async () => {
    const from = '+963944600501';
    for (let i = 0; i < 2; i++) await twilioInbound(rig, from, 'HELP');
    await nth(rig, from, 2);
    await rig.restart();
    for (let i = 0; i < 3; i++) await twilioInbound(rig, from, 'HELP');
    await nth(rig, from, 3);
    await settledFor(rig, from);
    assert.equal(twilioTo(rig, from).length, 3, 'three replies in the hour, restart or not');
    const { items } = await itemsOf(rig, from);
    assert.equal(items.length, 3, 'nothing queued beyond the cap');
  });
});

describe('SMS delivery: the Android gateway', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms();
  });
  after(async () => {
    await rig.close();
  });

  it('sends one SMS when the phone took a message but its answer was lost (409 on the retry)', async () => {
    const from = '+963944400101';
    rig.android.loseNextAnswer();
    assert.equal(await androidInbound(rig, from, 'HELP'), 200);
    const row = await waitFor('rescheduled', async () => {
      const { items } = await itemsOf(rig, from);
      return items[0]?.status === 'queued' && items[0].attempts >= 1 ? items[0] : null;
    });
    assert.match(row.lastError ?? '', /Android gateway/);
    const sent = await waitFor(
      'sent after the retry',
      async () => {
        await rig.t.tasdeed.dispatcher.drain();
        const { items } = await itemsOf(rig, from);
        return items[0]?.status === 'sent' ? items[0] : null;
      },
      20_000,
    );
    const tries = rig.android.requests.filter((r) => r.body.includes(from));
    assert.equal(tries.length, 2, 'tried twice');
    const ids = tries.map((r) => (JSON.parse(r.body) as { id?: string }).id);
    assert.ok(ids[0] && ids[0] === ids[1], `one client id for both tries: ${ids.join(', ')}`);
    assert.equal(androidTo(rig, from).length, 1, 'the phone sent it once');
    assert.equal(sent.providerMessageId, ids[0]);
  });
});

describe('SMS cost guards and routing', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms({
      SMS_REPLIES_PER_HOUR: '3',
      SMS_MAX_PER_SECOND: '2',
      SMS_ROUTE_ANDROID: '+96393',
    });
  });
  after(async () => {
    await rig.close();
  });

  it('holds the reply cap: the 4th message in the hour gets no reply', async () => {
    const from = '+963944600001';
    for (let i = 0; i < 4; i++) await twilioInbound(rig, from, 'HELP');
    await nth(rig, from, 3);
    await settle(rig);
    await new Promise((r) => setTimeout(r, 1_500));
    await settle(rig);
    assert.equal(twilioTo(rig, from).length, 3);
    const { items } = await itemsOf(rig, from);
    assert.equal(items.length, 3, 'nothing enqueued beyond the cap');
  });

  it('holds the rate cap: no more than 2 parts in any one-second window per gateway', async () => {
    const senders = Array.from({ length: 6 }, (_, i) => `+96394460010${i}`);
    const start = rig.twilio.messages.length;
    await Promise.all(senders.map((s) => twilioInbound(rig, s, 'HELP')));
    await waitFor('all sent', () => rig.twilio.messages.length - start >= 6, 15_000);
    const times = rig.twilio.messages.slice(start).map((m) => m.at.getTime());
    for (const t of times) {
      const inWindow = times.filter((u) => u >= t && u < t + 1_000).length;
      assert.ok(inWindow <= 2, `${inWindow} sends within 1 s of ${t}: ${times.join(',')}`);
    }
  });

  it('replies through the gateway the message came in on', async () => {
    const syrian = '+963933500001';
    await twilioInbound(rig, syrian, 'HELP');
    await nth(rig, syrian, 1, 'twilio');
    const other = '+963944600201';
    assert.equal(await androidInbound(rig, other, 'HELP'), 200);
    await nth(rig, other, 1, 'android');
    assert.equal(androidTo(rig, syrian).length, 0);
    assert.equal(twilioTo(rig, other).length, 0);
  });

  it('sends a receipt to a number matching SMS_ROUTE_ANDROID through the Android gateway', async () => {
    const from = '+963933500002';
    await twilioInbound(rig, from, 'فاتورة كهرباء 1000301');
    const bill = await nth(rig, from, 1, 'twilio');
    assert.match(bill, /1\) ?ادفع/);
    await twilioInbound(rig, from, '1');
    const started = await nth(rig, from, 2, 'twilio');
    const ref = /P-[0-9A-Z]{10}/.exec(started)![0];
    const receipt = await nth(rig, from, 1, 'android');
    assert.match(receipt, new RegExp(ref));
  });
});
