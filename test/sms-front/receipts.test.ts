/**
 * Delivery receipts that report a temporary failure put the SMS back in the outbox (docs/design.md §8:
 * temporary failures back off and retry, then fail), through the local Twilio and Android
 * stand-ins: only while the normal retry schedule lasts, never twice for one failure, not after
 * a "delivered", and for a turn sent as several SMS, only the SMS that did not get through.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RETRY_DELAYS_MS } from '../../src/core/outbox/retry.js';
import { connectTo } from '../support/db.js';
import { outboxItemsOf, waitFor } from '../support/harness.js';
import {
  androidInbound,
  androidTo,
  nth,
  settle,
  startSms,
  twilioInbound,
  twilioTo,
  type SmsRig,
} from './rig.js';

/** The first backoff, and some: how long a requeued message waits before it goes again. */
const RESEND_WAIT_MS = RETRY_DELAYS_MS[0]! + 10_000;

/**
 * Makes an outbox row due now (a requeued or retried row waits for its backoff) and runs the
 * outbox; the dispatcher's own loop may take it first, so callers wait for its new state.
 */
async function dueNow(rig: SmsRig, id: number): Promise<void> {
  const db = connectTo(rig.t.databaseUrl);
  try {
    await db.client.outboxItem.updateMany({
      where: { id, status: 'queued' },
      data: { nextAttemptAt: new Date() },
    });
  } finally {
    await db.close();
  }
  await rig.t.tasdeed.dispatcher.drain();
}

/** The phone reports that one of our SMS failed (`id`: the event's own, for a replay). */
function androidFailed(rig: SmsRig, messageId: string, to: string, reason: string, id?: string) {
  return rig.android.sendWebhook(`${rig.t.url}/sms/android/webhook`, {
    event: 'sms:failed',
    ...(id ? { id } : {}),
    payload: {
      messageId,
      sender: null,
      recipient: to,
      phoneNumber: to,
      simNumber: 1,
      reason,
      failedAt: new Date().toISOString(),
    },
  });
}

describe('SMS delivery receipts: temporary failures are sent again', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms();
  });
  after(async () => {
    await rig.close();
  });

  async function onlyItem(address: string) {
    const identity = await rig.t.tasdeed.store.findIdentity('sms', address);
    assert.ok(identity, `${address} is known`);
    const items = await outboxItemsOf(rig.t, identity.id);
    assert.equal(items.length, 1, `one outbox row for ${address}`);
    return items[0]!;
  }

  /**
   * The one outbox row of `address` once it is recorded as sent (the stand-in has the SMS a
   * moment before the dispatcher has written down what happened).
   */
  function sentItemOf(address: string) {
    return waitFor(`the row of ${address} sent`, async () => {
      const item = await onlyItem(address);
      return item.status === 'sent' ? item : null;
    });
  }

  /** Drains the outbox until `check` holds (a requeued row is due after its backoff). */
  function resent<T>(what: string, check: () => Promise<T | null> | T | null): Promise<T> {
    return waitFor(
      what,
      async () => {
        await rig.t.tasdeed.dispatcher.drain();
        return check();
      },
      RESEND_WAIT_MS,
    );
  }

  const twilioStatus = (MessageSid: string, MessageStatus: string, ErrorCode?: string) =>
    rig.twilio.sendSignedWebhook(`${rig.t.url}/sms/twilio/status`, {
      MessageSid,
      MessageStatus,
      AccountSid: rig.twilio.accountSid,
      ...(ErrorCode ? { ErrorCode } : {}),
    });

  it('sends an Android message again after sms:failed LIMIT_EXCEEDED, once, with a new id', async () => {
    const to = '+963944700001';
    assert.equal(await androidInbound(rig, to, 'HELP'), 200);
    const text = await nth(rig, to, 1, 'android');
    const first = await sentItemOf(to);
    const failure = await androidFailed(
      rig,
      first.providerMessageId!,
      to,
      'RESULT_ERROR_LIMIT_EXCEEDED',
    );
    assert.equal(failure.status, 200);
    const queued = await onlyItem(to);
    assert.equal(queued.status, 'queued', 'back in the queue');
    assert.equal(queued.redeliveries, 1);
    assert.match(queued.lastError ?? '', /LIMIT_EXCEEDED/);
    // The phone retries the same event, and another event reports the same failure.
    assert.equal(
      (
        await rig.android.sendWebhook(`${rig.t.url}/sms/android/webhook`, {
          event: 'sms:failed',
          id: failure.id,
          payload: {
            messageId: first.providerMessageId,
            phoneNumber: to,
            reason: 'RESULT_ERROR_LIMIT_EXCEEDED',
          },
        })
      ).status,
      200,
    );
    assert.equal(
      (await androidFailed(rig, first.providerMessageId!, to, 'RESULT_ERROR_LIMIT_EXCEEDED'))
        .status,
      200,
    );
    assert.equal((await onlyItem(to)).redeliveries, 1, 'requeued once');

    const again = await resent('sent again', () => androidTo(rig, to)[1] ?? null);
    assert.equal(again, text);
    const item = await sentItemOf(to);
    assert.notEqual(item.providerMessageId, first.providerMessageId, 'a new client id');
    assert.equal(item.providerMessageId, `${first.providerMessageId}r1`);
    // A late failure of the first message changes nothing.
    await androidFailed(rig, first.providerMessageId!, to, 'RESULT_ERROR_NO_SERVICE');
    await settle(rig);
    assert.equal((await onlyItem(to)).status, 'sent');
    assert.equal(androidTo(rig, to).length, 2);
  });

  it('leaves a permanent Android failure failed', async () => {
    const to = '+963944700002';
    assert.equal(await androidInbound(rig, to, 'HELP'), 200);
    await nth(rig, to, 1, 'android');
    const item = await sentItemOf(to);
    assert.equal(
      (await androidFailed(rig, item.providerMessageId!, to, 'Invalid number')).status,
      200,
    );
    const after = await onlyItem(to);
    assert.equal(after.status, 'sent');
    assert.equal(after.deliveryStatus, 'failed');
    assert.equal(after.redeliveries, 0);
  });

  it('requeues Twilio 30008, not 30003, and a later "delivered" takes it out of the queue', async () => {
    const temporary = '+963944700003';
    await twilioInbound(rig, temporary, 'HELP');
    await nth(rig, temporary, 1);
    await sentItemOf(temporary);
    const sid = rig.twilio.messages.find((m) => m.form.To === temporary)!.sid;
    assert.equal((await twilioStatus(sid, 'undelivered', '30008')).status, 200);
    assert.equal((await twilioStatus(sid, 'undelivered', '30008')).status, 200, 'replayed');
    assert.equal((await twilioStatus(sid, 'failed', '30001')).status, 200, 'another failure');
    let item = await onlyItem(temporary);
    assert.equal(item.status, 'queued');
    assert.equal(item.redeliveries, 1, 'requeued once');
    // Out of order: the carrier did deliver it.
    assert.equal((await twilioStatus(sid, 'delivered')).status, 200);
    item = await onlyItem(temporary);
    assert.equal(item.status, 'sent', 'delivered wins: not sent again');
    assert.equal(item.deliveryStatus, 'delivered');
    assert.equal(item.attempts, 1, 'tried once');
    // A sent row is never claimed again: waiting out its old backoff would prove nothing more.
    await settle(rig);
    assert.equal(twilioTo(rig, temporary).length, 1);

    const permanent = '+963944700004';
    await twilioInbound(rig, permanent, 'HELP');
    await nth(rig, permanent, 1);
    await sentItemOf(permanent);
    const sid2 = rig.twilio.messages.find((m) => m.form.To === permanent)!.sid;
    assert.equal((await twilioStatus(sid2, 'undelivered', '30003')).status, 200);
    const failed = await onlyItem(permanent);
    assert.equal(failed.status, 'sent');
    assert.equal(failed.deliveryStatus, 'failed');
  });

  it('does not send a delivered message again when a temporary failure is reported after it', async () => {
    // Receipts out of order: "delivered" first, then a temporary failure of the same message.
    const viaTwilio = '+963944700007';
    await twilioInbound(rig, viaTwilio, 'HELP');
    await nth(rig, viaTwilio, 1);
    const twilioItem = await sentItemOf(viaTwilio);
    const sid = twilioItem.providerMessageId!;
    assert.equal((await twilioStatus(sid, 'delivered')).status, 200);
    assert.equal((await twilioStatus(sid, 'undelivered', '30008')).status, 200);
    let after = await onlyItem(viaTwilio);
    assert.equal(after.status, 'sent', 'a delivered Twilio message is not queued again');
    assert.equal(after.deliveryStatus, 'delivered');
    assert.equal(after.redeliveries, 0);

    const viaAndroid = '+963944700008';
    assert.equal(await androidInbound(rig, viaAndroid, 'HELP'), 200);
    await nth(rig, viaAndroid, 1, 'android');
    const androidItem = await sentItemOf(viaAndroid);
    const delivered = await rig.android.sendWebhook(`${rig.t.url}/sms/android/webhook`, {
      event: 'sms:delivered',
      payload: {
        messageId: androidItem.providerMessageId,
        phoneNumber: viaAndroid,
        deliveredAt: new Date().toISOString(),
      },
    });
    assert.equal(delivered.status, 200);
    assert.equal(
      (
        await androidFailed(
          rig,
          androidItem.providerMessageId!,
          viaAndroid,
          'RESULT_ERROR_LIMIT_EXCEEDED',
        )
      ).status,
      200,
    );
    after = await onlyItem(viaAndroid);
    assert.equal(after.status, 'sent', 'a delivered Android message is not queued again');
    assert.equal(after.deliveryStatus, 'delivered');
    assert.equal(after.redeliveries, 0);
    // Neither row is due, so nothing more goes out.
    await settle(rig);
    assert.equal(twilioTo(rig, viaTwilio).length, 1);
    assert.equal(androidTo(rig, viaAndroid).length, 1);
  });

  it('applies a failure the phone reported before the retry it answered 409, and sends again', async () => {
    const to = '+963944700009';
    // The phone takes the SMS, and its answer is lost: the outbox tries again later.
    rig.android.loseNextAnswer();
    assert.equal(await androidInbound(rig, to, 'HELP'), 200);
    const text = await nth(rig, to, 1, 'android');
    const clientId = rig.android.messages.find((m) =>
      (m.body.phoneNumbers as string[]).includes(to),
    )!.id;
    const waiting = await waitFor('the reply back in the queue', async () => {
      const item = await onlyItem(to);
      return item.status === 'queued' ? item : null;
    });
    assert.equal(waiting.providerMessageId, null, 'no answer, no id recorded');
    // Meanwhile the phone reports that SMS failed for now: it matches nothing recorded yet.
    const failure = await androidFailed(rig, clientId, to, 'RESULT_ERROR_NO_SERVICE');
    assert.equal(failure.status, 200);
    // The retry is answered 409 (the phone has that id): sent, with the failure applied.
    await dueNow(rig, waiting.id);
    const requeued = await waitFor('the retry recorded', async () => {
      const item = await onlyItem(to);
      return item.attempts >= 2 && item.status !== 'leased' ? item : null;
    });
    assert.equal(requeued.providerMessageId, clientId);
    assert.equal(requeued.deliveryStatus, 'failed', 'the failure reported before is applied');
    assert.equal(requeued.status, 'queued', 'and the SMS goes again');
    assert.equal(requeued.redeliveries, 1);
    assert.match(requeued.lastError ?? '', /NO_SERVICE/);
    await dueNow(rig, waiting.id);
    assert.equal(await nth(rig, to, 2, 'android'), text);
    const resent = await sentItemOf(to);
    assert.equal(resent.providerMessageId, `${clientId}r1`, 'under a new id');
  });

  it('gives up when the retry schedule is used up', async () => {
    const to = '+963944700005';
    await twilioInbound(rig, to, 'HELP');
    await nth(rig, to, 1);
    const item = await sentItemOf(to);
    // As if every try so far had been sent and reported failed.
    const db = connectTo(rig.t.databaseUrl);
    try {
      await db.client.outboxItem.update({
        where: { id: item.id },
        data: { attempts: RETRY_DELAYS_MS.length + 1 },
      });
    } finally {
      await db.close();
    }
    assert.equal((await twilioStatus(item.providerMessageId!, 'undelivered', '30008')).status, 200);
    const after = await onlyItem(to);
    assert.equal(after.status, 'sent');
    assert.equal(after.deliveryStatus, 'failed');
    assert.equal(after.redeliveries, 0, 'not requeued');
  });

  it('matches each SMS of a turn sent as several, and sends again only the one that failed', async () => {
    const to = '+963944700006';
    await twilioInbound(rig, to, 'اشترك كهرباء 1000101');
    await nth(rig, to, 1);
    await twilioInbound(rig, to, 'اشترك مياه 2000101');
    await nth(rig, to, 2);
    const before = rig.twilio.messages.length;
    await twilioInbound(rig, to, 'فاتورة');
    // Two bill lines that do not fit one SMS together: two SMS.
    await nth(rig, to, 4);
    const [one, two] = rig.twilio.messages.slice(before).filter((m) => m.form.To === to);
    assert.ok(one && two, 'two SMS');
    const identity = await rig.t.tasdeed.store.findIdentity('sms', to);
    const turn = await waitFor('the turn recorded as sent', async () => {
      const items = await outboxItemsOf(rig.t, identity!.id);
      const last = items[items.length - 1];
      return items.length === 3 && last?.status === 'sent' ? last : null;
    });
    assert.equal(turn.providerMessageId, one.sid);
    assert.deepEqual(
      (await rig.t.tasdeed.store.sentParts(turn.id)).map((p) => p.providerMessageId),
      [one.sid, two.sid],
    );
    await twilioStatus(one.sid, 'delivered');
    assert.equal(
      (await rig.t.tasdeed.store.getOutboxItem(turn.id))?.deliveryStatus,
      null,
      'not delivered while the second SMS has no receipt',
    );
    assert.equal((await twilioStatus(two.sid, 'undelivered', '30008')).status, 200);
    const failed = await rig.t.tasdeed.store.getOutboxItem(turn.id);
    assert.equal(failed?.deliveryStatus, 'failed');
    assert.equal(failed?.status, 'queued');

    const resentSms = await resent('the second SMS sent again', () =>
      rig.twilio.messages.length > before + 2 ? rig.twilio.messages.slice(before + 2) : null,
    );
    assert.deepEqual(
      resentSms.map((m) => m.form.Body),
      [two.form.Body],
      'only the SMS that failed goes again',
    );
    const third = resentSms[0]!;
    await waitFor('sent', async () =>
      (await rig.t.tasdeed.store.getOutboxItem(turn.id))?.status === 'sent' ? true : null,
    );
    assert.deepEqual(
      (await rig.t.tasdeed.store.sentParts(turn.id)).map((p) => p.providerMessageId),
      [one.sid, third.sid],
    );
    await twilioStatus(third.sid, 'delivered');
    const done = await rig.t.tasdeed.store.getOutboxItem(turn.id);
    assert.equal(done?.deliveryStatus, 'delivered', 'every SMS of the turn delivered');
    assert.equal(done?.providerMessageId, one.sid);
  });
});

describe("SMS delivery receipts: a failure of a turn's first SMS reported before its last went out", () => {
  let rig: SmsRig;
  before(async () => {
    // One SMS a second: the turn's second SMS waits a second after the first.
    rig = await startSms({ SMS_MAX_PER_SECOND_ANDROID: '1' });
  });
  after(async () => {
    await rig.close();
  });

  /**
   * Follows two accounts from `to`, then asks for both bills: two bill lines that do not fit
   * one SMS together, so the turn goes out as two SMS. Returns what the phone sent to `to`.
   */
  async function askForTwoBills(to: string) {
    const sentTo = () =>
      rig.android.messages.filter((m) => (m.body.phoneNumbers as string[]).includes(to));
    assert.equal(await androidInbound(rig, to, 'اشترك كهرباء 1000101'), 200);
    await nth(rig, to, 1, 'android');
    assert.equal(await androidInbound(rig, to, 'اشترك مياه 2000101'), 200);
    await nth(rig, to, 2, 'android');
    assert.equal(await androidInbound(rig, to, 'فاتورة'), 200);
    return sentTo;
  }

  it('applies the failure, and sends that SMS again alone, under a new id', async () => {
    const to = '+963944700123';
    const sentTo = await askForTwoBills(to);
    // Two bill lines that do not fit one SMS together: two SMS, a second apart.
    const first = await waitFor("the turn's first SMS", () => sentTo()[2] ?? null);
    const failure = await androidFailed(rig, first.id, to, 'RESULT_ERROR_NO_SERVICE');
    assert.equal(failure.status, 200);
    assert.equal(sentTo().length, 3, 'the failure came before the second SMS went out');
    const identity = await rig.t.tasdeed.store.findIdentity('sms', to);
    assert.ok(identity, `${to} is known`);
    const turn = await waitFor('the turn recorded', async () => {
      const items = await outboxItemsOf(rig.t, identity.id);
      const last = items[items.length - 1];
      return items.length === 3 && last && last.attempts >= 1 && last.status !== 'leased'
        ? last
        : null;
    });
    const second = sentTo()[3];
    assert.ok(second, 'the second SMS went out');
    assert.equal(turn.deliveryStatus, 'failed', 'the failure of the first SMS is applied');
    assert.equal(turn.status, 'queued', 'the turn goes again');
    assert.equal(turn.redeliveries, 1);
    assert.deepEqual(
      (await rig.t.tasdeed.store.sentParts(turn.id)).map((p) => [
        p.providerMessageId,
        p.deliveryStatus,
      ]),
      [
        [first.id, 'failed'],
        [second.id, null],
      ],
    );

    await dueNow(rig, turn.id);
    const again = await waitFor('the first SMS sent again', () => sentTo()[4] ?? null);
    await waitFor('the turn sent', async () =>
      (await rig.t.tasdeed.store.getOutboxItem(turn.id))?.status === 'sent' ? true : null,
    );
    assert.equal(sentTo().length, 5, 'only the SMS that failed went again');
    assert.deepEqual(again.body.textMessage, first.body.textMessage);
    assert.notEqual(again.id, first.id, 'under a new id (the phone would refuse the old one)');
    assert.deepEqual(
      (await rig.t.tasdeed.store.sentParts(turn.id)).map((p) => p.providerMessageId),
      [again.id, second.id],
    );
  });

  it('sends a part reported failed during an ordinary retry again as a new SMS, not a 409', async () => {
    const to = '+963944700124';
    const sentTo = await askForTwoBills(to);
    const first = await waitFor("the turn's first SMS", () => sentTo()[2] ?? null);
    // The phone refuses the request for the second SMS (a second later): an ordinary retry.
    rig.android.failNext(500);
    const identity = await rig.t.tasdeed.store.findIdentity('sms', to);
    assert.ok(identity, `${to} is known`);
    const turn = await waitFor('the turn back in the queue', async () => {
      const items = await outboxItemsOf(rig.t, identity.id);
      const last = items[items.length - 1];
      return items.length === 3 && last?.status === 'queued' && last.attempts === 1 ? last : null;
    });
    assert.match(turn.lastError ?? '', /500/);
    // While it waits, the phone reports the first SMS failed: no redelivery (it is queued).
    const failure = await androidFailed(rig, first.id, to, 'RESULT_ERROR_NO_SERVICE');
    assert.equal(failure.status, 200);
    const waiting = await rig.t.tasdeed.store.getOutboxItem(turn.id);
    assert.equal(waiting?.status, 'queued');
    assert.equal(waiting?.redeliveries, 0);
    assert.deepEqual(
      (await rig.t.tasdeed.store.sentParts(turn.id)).map((p) => [
        p.providerMessageId,
        p.deliveryStatus,
      ]),
      [[first.id, 'failed']],
    );

    await dueNow(rig, turn.id);
    const done = await waitFor('the turn sent', async () => {
      const item = await rig.t.tasdeed.store.getOutboxItem(turn.id);
      return item?.status === 'sent' ? item : null;
    });
    const [again, second] = sentTo().slice(3);
    assert.ok(again && second, 'the phone took the first SMS again, and the second');
    assert.equal(sentTo().length, 5);
    assert.deepEqual(again.body.textMessage, first.body.textMessage);
    assert.notEqual(again.id, first.id, 'a new id: the old one would be answered 409');
    assert.deepEqual(
      (await rig.t.tasdeed.store.sentParts(turn.id)).map((p) => [p.providerMessageId, p.resends]),
      [
        [again.id, 1],
        [second.id, 0],
      ],
    );
    assert.equal(done.redeliveries, 0);
    assert.equal(done.deliveryStatus, null, 'two new SMS, no receipt yet');
  });
});
