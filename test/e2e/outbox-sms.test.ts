/**
 * SMS through the outbox against the local Twilio and Android gateway stand-ins (docs/design.md §8):
 * at most SMS_MAX_PER_SECOND parts a second through Twilio and SMS_MAX_PER_SECOND_ANDROID
 * through the Android gateway, a person's reply served before a running broadcast, and an
 * invalid number failing only its own message.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { measureSms } from '../../src/sms/sms-renderer.js';
import { connectTo } from '../support/db.js';
import { waitFor } from '../support/harness.js';
import { startSms, twilioInbound, twilioTo, androidTo, type SmsRig } from '../sms-front/rig.js';
import { ADMIN_TOKEN, awayFromQuietHours, maxInWindow } from './outbox-rig.js';

const TWILIO_RATE = 5;
const ANDROID_RATE = 2;

async function broadcast(rig: SmsRig, body: unknown): Promise<{ id: string; recipients: number }> {
  const res = await fetch(`${rig.t.url}/admin/broadcasts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { id: string; recipients: number };
}

describe('SMS dispatch limits and failures', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms({
      SMS_MAX_PER_SECOND: String(TWILIO_RATE),
      SMS_MAX_PER_SECOND_ANDROID: String(ANDROID_RATE),
      SMS_ROUTE_ANDROID: '+96393',
      ...awayFromQuietHours(new Date()),
    });
  });
  after(async () => {
    await rig.close();
  });

  it('holds each gateway to its parts a second, and answers a person before the broadcast ends', async () => {
    const viaTwilio = Array.from({ length: 30 }, (_, i) => `+9639447${String(i).padStart(5, '0')}`);
    const viaAndroid = Array.from({ length: 6 }, (_, i) => `+9639347${String(i).padStart(5, '0')}`);
    const store = rig.t.tasdeed.store;
    await store.transaction(async (tx) => {
      for (const n of [...viaTwilio, ...viaAndroid]) await tx.ensureIdentity('sms', n, 'en');
    });
    const created = await broadcast(rig, {
      text: { ar: 'BC-SMS انقطاع مجدول', en: 'BC-SMS scheduled outage' },
      audience: { languages: ['en'] },
      channels: ['sms'],
    });
    assert.equal(created.recipients, viaTwilio.length + viaAndroid.length);

    const isBroadcast = (body: string | undefined) => (body ?? '').startsWith('BC-SMS');
    const twilioBroadcast = () => rig.twilio.messages.filter((m) => isBroadcast(m.form.Body));
    await waitFor('the broadcast under way', () => twilioBroadcast().length >= 5, 20_000);

    // A recipient still waiting for the broadcast writes in.
    const writer = viaTwilio[viaTwilio.length - 1]!;
    const atInbound = twilioBroadcast().length;
    const answer = await twilioInbound(rig, writer, 'HELP');
    assert.equal(answer.status, 200);
    const replyIndex = await waitFor(
      'the reply',
      () => {
        const i = rig.twilio.messages.findIndex(
          (m) => m.form.To === writer && !isBroadcast(m.form.Body),
        );
        return i >= 0 ? i + 1 : null;
      },
      15_000,
    );
    const broadcastBeforeReply = rig.twilio.messages
      .slice(0, replyIndex - 1)
      .filter((m) => isBroadcast(m.form.Body)).length;
    assert.ok(
      broadcastBeforeReply - atInbound < 2 * TWILIO_RATE,
      `${broadcastBeforeReply - atInbound} broadcast messages went out before the reply`,
    );
    assert.ok(
      viaTwilio.length - broadcastBeforeReply >= 8,
      'the reply went before the rest of the broadcast',
    );

    await waitFor(
      'the whole broadcast',
      () => twilioBroadcast().length === viaTwilio.length && rig.android.messages.length >= 6,
      30_000,
    );
    for (const n of viaTwilio)
      assert.equal(twilioTo(rig, n).filter(isBroadcast).length, 1, `${n} once via Twilio`);
    for (const n of viaAndroid) {
      assert.equal(androidTo(rig, n).filter(isBroadcast).length, 1, `${n} once via Android`);
      assert.deepEqual(twilioTo(rig, n), [], `${n} not via Twilio`);
    }

    // Parts per one-second window at each gateway, everything it was sent counted.
    const twilioParts = maxInWindow(
      rig.twilio.messages.map((m) => m.mono),
      1_000,
      rig.twilio.messages.map((m) => measureSms(m.form.Body ?? '').parts),
    );
    assert.ok(twilioParts <= TWILIO_RATE, `${twilioParts} parts in a second through Twilio`);
    const androidParts = maxInWindow(
      rig.android.messages.map((m) => m.mono),
      1_000,
      rig.android.messages.map((m) => {
        const b = m.body as { textMessage?: { text?: string }; message?: string };
        return measureSms(b.textMessage?.text ?? b.message ?? '').parts;
      }),
    );
    assert.ok(androidParts <= ANDROID_RATE, `${androidParts} parts in a second through Android`);
  });

  it('fails only the message to an invalid number', async () => {
    const good = ['+963944800001', '+963944800002'];
    const invalid = '+963944800009';
    const store = rig.t.tasdeed.store;
    await store.transaction(async (tx) => {
      for (const n of [...good, invalid]) await tx.ensureIdentity('sms', n, 'ar');
    });
    rig.twilio.failTo(invalid, {
      status: 400,
      code: 21211,
      message: "The 'To' number +963944800009 is not a valid phone number.",
    });
    const created = await broadcast(rig, {
      text: { ar: 'BC-AR إشعار' },
      audience: { languages: ['ar'] },
      channels: ['sms'],
    });
    assert.equal(created.recipients, 3);
    for (const n of good) await waitFor(`${n} served`, () => twilioTo(rig, n).length === 1);
    const identity = await store.findIdentity('sms', invalid);
    assert.ok(identity);
    const progress = await waitFor('every row final', async () => {
      const res = await fetch(`${rig.t.url}/admin/broadcasts/${created.id}`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const body = (await res.json()) as {
        counts: { sent: number; failed: number; queued: number };
      };
      return body.counts.queued === 0 ? body : null;
    });
    assert.deepEqual(
      { sent: progress.counts.sent, failed: progress.counts.failed },
      { sent: 2, failed: 1 },
    );
    const { client, close } = connectTo(rig.t.databaseUrl);
    try {
      const row = await client.outboxItem.findFirst({
        where: { broadcastId: created.id, identityId: identity.id },
      });
      assert.equal(row?.status, 'failed');
      assert.equal(row?.attempts, 1, 'failed at once, not retried');
      assert.match(row?.lastError ?? '', /21211/);
    } finally {
      await close();
    }
    assert.deepEqual(twilioTo(rig, invalid), [], 'nothing accepted for the invalid number');
    // Not an opt-out: the number may still be written to (and a fixed number would work).
    assert.equal((await store.findIdentity('sms', invalid))?.optedOut, false);
    const later = await store.enqueue({
      kind: 'message',
      lane: 'reply',
      identityId: identity.id,
      payload: { key: 'help' },
      nextAttemptAt: new Date(),
    });
    assert.ok(later);
    rig.t.tasdeed.dispatcher.notify();
    await waitFor('the later message sent', () => twilioTo(rig, invalid).length === 1);
  });
});

describe('SMS: a gateway that answers "too many requests"', () => {
  let rig: SmsRig;
  before(async () => {
    // One part a second: one request at a time, so nothing was already on its way.
    rig = await startSms({
      SMS_MAX_PER_SECOND_ANDROID: '1',
      SMS_ROUTE_ANDROID: '+96393',
      ...awayFromQuietHours(new Date()),
    });
  });
  after(async () => {
    await rig.close();
  });

  it('sends nothing more through that gateway until Retry-After has passed, then delivers', async () => {
    const numbers = ['+963934900001', '+963934900002', '+963934900003', '+963934900004'];
    const store = rig.t.tasdeed.store;
    rig.android.failNext(429, { message: 'Too Many Requests' }, { 'Retry-After': '2' });
    const start = rig.android.requests.length;
    for (const n of numbers) {
      const { identity } = await store.ensureIdentity('sms', n, 'en');
      await store.enqueue({
        kind: 'message',
        lane: 'bulk',
        identityId: identity.id,
        payload: { key: 'remind-on' },
        nextAttemptAt: new Date(),
      });
    }
    rig.t.tasdeed.dispatcher.notify();
    await waitFor(
      'every number served',
      () => numbers.every((n) => androidTo(rig, n).length === 1),
      20_000,
    );
    const posts = rig.android.requests.slice(start).filter((r) => r.method === 'POST');
    assert.equal(posts.length, numbers.length + 1, 'one refused request, then one each');
    const refusedAt = posts[0]!.mono!;
    const tooSoon = posts.filter((r) => r.mono! > refusedAt && r.mono! < refusedAt + 2_000);
    assert.equal(tooSoon.length, 0, 'requests within Retry-After of the 429');
  });
});
