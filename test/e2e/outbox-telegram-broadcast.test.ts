/**
 * Telegram bulk traffic against the local Bot API stand-in (docs/design.md §8): a person's reply
 * overtakes a running broadcast, and bulk never goes faster than TELEGRAM_BULK_PER_SECOND
 * overall nor more than about one message a second to a chat. Everything is counted where
 * Telegram would count it: at the stand-in, in the order and at the moments requests arrive.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RecordedCall } from '../support/fake-telegram.server.js';
import { textUpdate } from '../support/fake-telegram.server.js';
import { waitFor } from '../support/harness.js';
import { startTelegram, TelegramUser, type TelegramRig } from '../support/telegram.js';
import { ADMIN_TOKEN, awayFromQuietHours, maxInWindow, minGap } from './outbox-rig.js';

const RATE = 10;
const RECIPIENTS = 200;

describe('Telegram bulk through the outbox', () => {
  let rig: TelegramRig;
  before(async () => {
    rig = await startTelegram({
      mode: 'webhook',
      env: { TELEGRAM_BULK_PER_SECOND: String(RATE), ...awayFromQuietHours(new Date()) },
    });
  });
  after(async () => {
    await rig.close();
  });

  it('answers a person before a running broadcast ends, holding bulk to its caps', async () => {
    const store = rig.t.tasdeed.store;
    const chats = Array.from({ length: RECIPIENTS }, (_, i) => 940_000 + i);
    await store.transaction(async (tx) => {
      for (const chat of chats) await tx.ensureIdentity('telegram', String(chat), 'en');
    });
    // One subscriber also has four other bulk messages waiting (as a reminder run leaves them):
    // they and the broadcast must reach that chat a second apart.
    const busy = chats[3]!;
    const busyIdentity = await store.findIdentity('telegram', String(busy));
    assert.ok(busyIdentity);
    for (let i = 0; i < 4; i++) {
      await store.enqueue({
        kind: 'message',
        lane: 'bulk',
        identityId: busyIdentity.id,
        payload: { key: 'remind-on' },
        nextAttemptAt: new Date(),
      });
    }

    const res = await fetch(`${rig.t.url}/admin/broadcasts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        text: { ar: 'BC-OUTBOX انقطاع مجدول', en: 'BC-OUTBOX scheduled outage' },
        audience: { all: true },
        channels: ['telegram'],
      }),
    });
    assert.equal(res.status, 201);
    const created = (await res.json()) as { id: string; recipients: number };
    assert.equal(created.recipients, RECIPIENTS);

    const calls = rig.fake.calls;
    const isBroadcast = (c: RecordedCall) =>
      c.method === 'sendMessage' && String(c.params.text).startsWith('BC-OUTBOX');
    const isBulk = (c: RecordedCall) =>
      isBroadcast(c) ||
      (c.method === 'sendMessage' &&
        String(c.params.chat_id) === String(busy) &&
        c.params.text === 'Reminders are on.');
    const broadcastSoFar = () => calls.filter(isBroadcast).length;

    // The broadcast is under way; then a subscriber who is one of its recipients writes.
    await waitFor('the broadcast under way', () => broadcastSoFar() >= 20, 20_000);
    const writer = new TelegramUser(rig, chats[RECIPIENTS - 1]!);
    const atInbound = broadcastSoFar();
    await writer.send({ ...textUpdate(writer.chatId, '/help'), update_id: rig.fake.updateId() });
    const replyIndex = await waitFor(
      'the reply',
      () => {
        const i = calls.findIndex(
          (c) =>
            c.method === 'sendMessage' &&
            String(c.params.chat_id) === String(writer.chatId) &&
            c.params.__ok === true &&
            !isBroadcast(c),
        );
        return i >= 0 ? i + 1 : null;
      },
      15_000,
    );
    const broadcastBeforeReply = calls.slice(0, replyIndex - 1).filter(isBroadcast).length;
    const overtaken = broadcastBeforeReply - atInbound;
    assert.ok(
      overtaken < 20,
      `${overtaken} broadcast messages went out between the person's message and the reply`,
    );

    await waitFor('the whole broadcast', () => broadcastSoFar() >= RECIPIENTS, 60_000);
    await waitFor('the busy chat’s other messages', () => calls.filter(isBulk).length >= 204);
    assert.ok(
      RECIPIENTS - broadcastBeforeReply > 100,
      'the reply arrived long before the broadcast ended',
    );

    // Each recipient got the broadcast exactly once.
    const perChat = new Map<string, RecordedCall[]>();
    for (const c of calls.filter(isBulk)) {
      const chat = String(c.params.chat_id);
      perChat.set(chat, [...(perChat.get(chat) ?? []), c]);
    }
    for (const chat of chats) {
      const got = (perChat.get(String(chat)) ?? []).filter(isBroadcast);
      assert.equal(got.length, 1, `chat ${chat} got the broadcast ${got.length} times`);
    }

    // Never more than RATE bulk requests in any one-second window at Telegram...
    const bulk = calls.filter(isBulk);
    const worst = maxInWindow(
      bulk.map((c) => c.mono),
      1_000,
    );
    assert.ok(worst <= RATE, `${worst} bulk requests within one second (cap ${RATE})`);
    // ...and a second between two bulk messages to the same chat.
    const busyCalls = perChat.get(String(busy)) ?? [];
    assert.equal(busyCalls.length, 5);
    for (const [chat, list] of perChat) {
      const gap = minGap(list.map((c) => c.mono));
      assert.ok(gap >= 1_000, `chat ${chat}: two bulk messages ${gap.toFixed(0)} ms apart`);
    }

    const progress = await fetch(`${rig.t.url}/admin/broadcasts/${created.id}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const body = (await progress.json()) as { status: string; counts: { sent: number } };
    assert.equal(body.counts.sent, RECIPIENTS);
    assert.equal(body.status, 'done');
  });
});
