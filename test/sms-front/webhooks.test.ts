/**
 * The SMS webhooks: signatures checked before anything is recorded, the message recorded and
 * answered with empty TwiML at once, redeliveries acting once, receipts recorded.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { outboxCount, waitFor } from '../support/harness.js';
import {
  androidInbound,
  newSid,
  nth,
  settle,
  settledFor,
  startSms,
  twilioInbound,
  twilioTo,
  androidTo,
  type SmsRig,
} from './rig.js';

describe('SMS webhooks', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms();
  });
  after(async () => {
    await rig.close();
  });

  const recorded = async () => (await rig.t.tasdeed.store.unprocessedSmsInbound(1000)).length;

  it('refuses forged and missing Twilio signatures: nothing recorded, nothing sent', async () => {
    const from = '+963944200001';
    const forged = await twilioInbound(rig, from, 'HELP', newSid(), { authToken: 'wrong-token' });
    assert.equal(forged.status, 403);
    const missing = await twilioInbound(rig, from, 'HELP', newSid(), { signature: null });
    assert.equal(missing.status, 400);
    const otherUrl = await twilioInbound(rig, from, 'HELP', newSid(), {
      signedUrl: 'http://evil.example/sms/twilio/inbound',
    });
    assert.equal(otherUrl.status, 403);
    assert.equal(await recorded(), 0);
    await settle(rig);
    assert.equal(twilioTo(rig, from).length, 0);
    const status = await rig.twilio.sendSignedWebhook(
      `${rig.t.url}/sms/twilio/status`,
      { MessageSid: newSid(), MessageStatus: 'delivered' },
      { authToken: 'wrong-token' },
    );
    assert.equal(status.status, 403);
  });

  it('refuses unsigned, forged and stale Android events', async () => {
    const url = `${rig.t.url}/sms/android/webhook`;
    const event = {
      event: 'sms:received',
      payload: { messageId: 'x', message: 'HELP', sender: '+963944200002' },
    };
    assert.equal((await rig.android.sendWebhook(url, event, { signature: null })).status, 401);
    assert.equal((await rig.android.sendWebhook(url, event, { secret: 'nope' })).status, 401);
    const stale = Math.floor(Date.now() / 1000) - 3600;
    assert.equal((await rig.android.sendWebhook(url, event, { timestamp: stale })).status, 401);
    const tampered = await rig.android.sendWebhook(url, event, {
      tamper: (raw) => raw.replace('HELP', 'STOP'),
    });
    assert.equal(tampered.status, 401);
    assert.equal(await recorded(), 0);
    await settle(rig);
    assert.equal(androidTo(rig, '+963944200002').length, 0);
  });

  it('takes an sms:received shaped and signed as the app sends it, and replies to its sender', async () => {
    // The body as the app serialises it (WebHookEventDTO around SmsEventPayload.SmsReceived):
    // the sender both as `sender` and as the older `phoneNumber`, in the phone's local format.
    const raw = JSON.stringify({
      id: 'Ey6ECgOkVVFjz3CL48B8D',
      webhookId: 'LreFUt-Z3sSq0JufY9uWB',
      event: 'sms:received',
      deviceId: 'ffffffffceb0b1db0000018e937c815b',
      payload: {
        messageId: '4f3c2a1b',
        sender: '0944200010',
        recipient: null,
        simNumber: 1,
        phoneNumber: '0944200010',
        message: 'مساعدة',
        receivedAt: '2026-11-25T12:00:00.000+03:00',
      },
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', rig.android.webhookSecret)
      .update(raw + timestamp)
      .digest('hex');
    const post = (body: string, sig: string) =>
      fetch(`${rig.t.url}/sms/android/webhook`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'X-Signature': sig,
          'X-Timestamp': timestamp,
        },
        body,
      });
    assert.equal((await post(raw, signature)).status, 200);
    // The same bytes signed with another key are refused.
    const forged = createHmac('sha256', 'not-the-key')
      .update(raw + timestamp)
      .digest('hex');
    assert.equal((await post(raw, forged)).status, 401);
    const help = await nth(rig, '+963944200010', 1, 'android');
    assert.match(help, /فاتورة/);
  });

  it('answers empty TwiML at once and replies through the REST API with a StatusCallback', async () => {
    const from = '+963944200003';
    const res = await twilioInbound(rig, from, 'HELP');
    assert.equal(res.status, 200);
    assert.match(res.body, /<Response\/>/);
    await nth(rig, from, 1);
    const sent = rig.twilio.messages.find((m) => m.form.To === from)!;
    assert.equal(sent.form.StatusCallback, `${rig.t.url}/sms/twilio/status`);
  });

  it('acts once on a redelivered Twilio message and a redelivered Android event', async () => {
    const from = '+963944200004';
    const sid = newSid();
    assert.equal((await twilioInbound(rig, from, 'HELP', sid)).status, 200);
    assert.equal((await twilioInbound(rig, from, 'HELP', sid)).status, 200);
    await nth(rig, from, 1);
    const other = '+963944200005';
    assert.equal(await androidInbound(rig, other, 'HELP', 'event-1'), 200);
    assert.equal(await androidInbound(rig, other, 'HELP', 'event-1'), 200);
    await nth(rig, other, 1, 'android');
    await settledFor(rig, from);
    await settledFor(rig, other);
    assert.equal(twilioTo(rig, from).length, 1);
    assert.equal(androidTo(rig, other).length, 1);
  });

  it('never replies to an alphanumeric sender', async () => {
    await settle(rig);
    const sentBefore = rig.twilio.requests.length + rig.android.requests.length;
    const queuedBefore = await outboxCount(rig.t);
    assert.equal((await twilioInbound(rig, 'SyriaTel', 'Your balance is low')).status, 200);
    assert.equal(await androidInbound(rig, 'MTN', 'Offer!'), 200);
    // Words that would get a reply from anyone else.
    assert.equal((await twilioInbound(rig, 'Bank', 'HELP')).status, 200);
    // Nothing is ever queued for these senders, so the drain is the whole wait.
    await settle(rig);
    assert.equal(await recorded(), 0, 'processed');
    assert.equal(
      rig.twilio.requests.length + rig.android.requests.length,
      sentBefore,
      'no request reached either gateway',
    );
    assert.equal(await outboxCount(rig.t), queuedBefore, 'nothing queued in the outbox');
    for (const sender of ['SyriaTel', 'MTN', 'Bank']) {
      assert.equal(await rig.t.tasdeed.store.findIdentity('sms', sender), null, sender);
    }
  });

  it('records delivery receipts on the outbox item (Twilio status callback, Android events)', async () => {
    const from = '+963944200006';
    await twilioInbound(rig, from, 'HELP');
    await nth(rig, from, 1);
    const sid = rig.twilio.messages.find((m) => m.form.To === from)!.sid;
    const ok = await rig.twilio.sendSignedWebhook(`${rig.t.url}/sms/twilio/status`, {
      MessageSid: sid,
      MessageStatus: 'delivered',
    });
    assert.equal(ok.status, 200);
    const identity = await rig.t.tasdeed.store.findIdentity('sms', from);
    const item = await waitFor('receipt', async () => {
      const [row] = await rig.t.tasdeed.store.sentMessages(identity!.id, 0, 10);
      return row?.deliveryStatus === 'delivered' ? row : null;
    });
    assert.equal(item.providerMessageId, sid);
    // A late "sent" does not undo "delivered".
    await rig.twilio.sendSignedWebhook(`${rig.t.url}/sms/twilio/status`, {
      MessageSid: sid,
      MessageStatus: 'sent',
    });
    const again = await rig.t.tasdeed.store.getOutboxItem(item.id);
    assert.equal(again?.deliveryStatus, 'delivered');

    const other = '+963944200007';
    await androidInbound(rig, other, 'HELP');
    await nth(rig, other, 1, 'android');
    const otherId = await rig.t.tasdeed.store.findIdentity('sms', other);
    // The stand-in has the SMS a moment before the dispatcher records it as sent.
    const row = await waitFor('the reply recorded as sent', async () => {
      const [sent] = await rig.t.tasdeed.store.sentMessages(otherId!.id, 0, 10);
      return sent ?? null;
    });
    assert.ok(row.providerMessageId, 'the gateway gave the reply an id');
    const res = await rig.android.sendWebhook(`${rig.t.url}/sms/android/webhook`, {
      event: 'sms:failed',
      payload: {
        messageId: row.providerMessageId,
        phoneNumber: other,
        reason: 'RESULT_ERROR_GENERIC_FAILURE',
      },
    });
    assert.equal(res.status, 200);
    assert.equal((await rig.t.tasdeed.store.getOutboxItem(row.id))?.deliveryStatus, 'failed');
  });

  it('answers 200 to every Twilio status and never moves a delivery backwards', async () => {
    const from = '+963944200011';
    await twilioInbound(rig, from, 'HELP');
    await nth(rig, from, 1);
    const sid = rig.twilio.messages.find((m) => m.form.To === from)!.sid;
    const identity = await rig.t.tasdeed.store.findIdentity('sms', from);
    // The stand-in has the SMS a moment before the dispatcher records it as sent.
    const item = await waitFor('the reply recorded as sent', async () => {
      const [row] = await rig.t.tasdeed.store.sentMessages(identity!.id, 0, 10);
      return row ?? null;
    });
    const status = async (MessageStatus: string) => {
      const res = await rig.twilio.sendSignedWebhook(`${rig.t.url}/sms/twilio/status`, {
        MessageSid: sid,
        MessageStatus,
        AccountSid: rig.twilio.accountSid,
      });
      assert.equal(res.status, 200, `${MessageStatus}: ${res.body}`);
      return (await rig.t.tasdeed.store.getOutboxItem(item.id))?.deliveryStatus;
    };
    assert.equal(await status('sent'), 'sent');
    for (const early of ['accepted', 'scheduled', 'queued', 'sending', 'receiving', 'received']) {
      assert.equal(await status(early), 'sent', `${early} after sent`);
    }
    assert.equal(await status('partially_delivered'), 'sent');
    assert.equal(await status('read'), 'delivered');
    for (const late of ['sent', 'undelivered', 'failed', 'canceled', 'delivered', 'queued']) {
      assert.equal(await status(late), 'delivered', `${late} after delivered`);
    }
    assert.equal((await rig.t.tasdeed.store.getOutboxItem(item.id))?.status, 'sent');
  });

  it('processes a message recorded by a process that died before acting on it', async () => {
    const from = '+963944200008';
    // As left by a crash: recorded (the webhook answered), never processed.
    const fresh = await rig.t.tasdeed.store.recordSmsInbound({
      gateway: 'twilio',
      dedupeKey: `twilio:${newSid()}`,
      fromAddress: from,
      toAddress: null,
      text: 'HELP',
      receivedAt: null,
    });
    assert.equal(fresh, true);
    rig.t.tasdeed.sms!.inbox.wake();
    await nth(rig, from, 1);
    assert.equal(await recorded(), 0);
  });

  it('opts the number out when a receipt says it unsubscribed (21610)', async () => {
    const from = '+963944200009';
    await twilioInbound(rig, from, 'HELP');
    await nth(rig, from, 1);
    const sid = rig.twilio.messages.find((m) => m.form.To === from)!.sid;
    const res = await rig.twilio.sendSignedWebhook(`${rig.t.url}/sms/twilio/status`, {
      MessageSid: sid,
      MessageStatus: 'undelivered',
      ErrorCode: '21610',
    });
    assert.equal(res.status, 200);
    assert.equal((await rig.t.tasdeed.store.findIdentity('sms', from))?.optedOut, true);
  });
});
