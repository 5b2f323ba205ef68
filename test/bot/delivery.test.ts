/**
 * Replies leave through the outbox: a blocked or deactivated user is opted out on Telegram and
 * gets nothing more; a 429 waits retry_after (recorded on the outbox row), then is sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { textUpdate } from '../support/fake-telegram.server.js';
import { outboxItemsOf, waitFor } from '../support/harness.js';
import { plain, startTelegram, TelegramUser, type TelegramRig } from '../support/telegram.js';

describe('Telegram delivery through the outbox', () => {
  let rig: TelegramRig;
  before(async () => {
    rig = await startTelegram({ mode: 'webhook' });
  });
  after(async () => {
    await rig.close();
  });

  for (const kind of ['blocked', 'deactivated'] as const) {
    it(`opts the subscriber out on 403 (${kind}) and sends nothing more`, async () => {
      const u = new TelegramUser(rig, kind === 'blocked' ? 810_001 : 810_002);
      await u.say('/start');
      rig.fake.refuseNext(u.chatId, { kind });
      await u.send({ ...textUpdate(u.chatId, '/bills'), update_id: rig.fake.updateId() });
      const identity = await waitFor('opted out', async () => {
        const i = await rig.t.tasdeed.store.findIdentity('telegram', String(u.chatId));
        return i?.optedOut ? i : null;
      });
      assert.equal(identity.optedOut, true);
      const calls = rig.fake.sentTo(u.chatId).length;
      await u.send({ ...textUpdate(u.chatId, '/bills'), update_id: rig.fake.updateId() });
      await new Promise((r) => setTimeout(r, 400));
      await rig.t.tasdeed.dispatcher.drain();
      assert.equal(rig.fake.sentTo(u.chatId).length, calls, 'no call after the 403');
    });
  }

  it('waits retry_after on 429, then sends the reply', async () => {
    const u = new TelegramUser(rig, 820_001);
    rig.fake.refuseNext(u.chatId, { kind: 'too-many', retryAfter: 1 });
    const started = Date.now();
    await u.send({ ...textUpdate(u.chatId, '/help'), update_id: rig.fake.updateId() });
    await waitFor('refused', () => rig.fake.sentTo(u.chatId).length >= 1);
    const identity = await rig.t.tasdeed.store.findIdentity('telegram', String(u.chatId));
    assert.ok(identity);
    const row = await waitFor('row rescheduled', async () =>
      (await outboxItemsOf(rig.t, identity.id)).find(
        (item) => item.attempts === 1 && item.status === 'queued',
      ),
    );
    assert.match(row.lastError ?? '', /429/);
    const wait = row.nextAttemptAt.getTime() - started;
    assert.ok(wait >= 900 && wait < 3_000, `next attempt ${wait} ms after the first`);
    const sent = await u.next(5_000);
    const second = await waitFor('second send', () => rig.fake.delivered(u.chatId)[0]);
    assert.equal(second.text, sent.text);
    assert.match(plain(sent.text), /\/follow/);
    assert.equal(rig.fake.sentTo(u.chatId).length, 2, 'one refused call, one delivered');
  });

  it('fails only that message on 400 chat not found', async () => {
    const u = new TelegramUser(rig, 830_001);
    rig.fake.refuseNext(u.chatId, { kind: 'chat-not-found' });
    await u.send({ ...textUpdate(u.chatId, '/help'), update_id: rig.fake.updateId() });
    await waitFor('refused', () => rig.fake.sentTo(u.chatId).length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    const identity = await rig.t.tasdeed.store.findIdentity('telegram', String(u.chatId));
    assert.equal(identity?.optedOut, false);
    const reply = await u.say('/help');
    assert.match(plain(reply.text), /\/follow/);
  });
});
