/**
 * Replies leave through the outbox, in webhook and in polling mode: a blocked or deactivated
 * user is opted out on Telegram and gets nothing more; a 429 waits retry_after (recorded on the
 * outbox row), then is sent; a 400 fails that one message, recorded with its reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { outboxItemsOf, waitFor } from '../support/harness.js';
import {
  plain,
  settled,
  startTelegram,
  TelegramUser,
  type TelegramRig,
} from '../support/telegram.js';

const HELP =
  'الأوامر: /follow متابعة حساب، /bills الفواتير، /accounts الحسابات، /reminders التذكير، /language اللغة، /stop إيقاف الرسائل.';

/** How far two millisecond clocks and Node's timers may disagree. */
const CLOCK_SLACK_MS = 5;

for (const mode of ['webhook', 'polling'] as const) {
  describe(`Telegram delivery through the outbox, ${mode} mode`, () => {
    let rig: TelegramRig;
    let chat = mode === 'webhook' ? 810_000 : 840_000;
    const user = () => new TelegramUser(rig, ++chat);
    before(async () => {
      rig = await startTelegram({ mode });
    });
    after(async () => {
      await rig.close();
    });

    /** The chat's identity, once its first update has been taken. */
    function identityOf(u: TelegramUser) {
      return waitFor(`chat ${u.chatId}'s identity`, () =>
        rig.t.tasdeed.store.findIdentity('telegram', String(u.chatId)),
      );
    }

    for (const kind of ['blocked', 'deactivated'] as const) {
      it(`opts the subscriber out on 403 (${kind}) and sends nothing more`, async () => {
        const u = user();
        await u.say('/start');
        rig.fake.refuseNext(u.chatId, { kind });
        await u.send(u.text('/bills'));
        const identity = await waitFor('opted out', async () => {
          const i = await rig.t.tasdeed.store.findIdentity('telegram', String(u.chatId));
          return i?.optedOut ? i : null;
        });
        assert.equal(identity.optedOut, true);
        const calls = rig.fake.sentTo(u.chatId).length;
        await u.send(u.text('/bills'));
        await u.send(u.callback('REMIND OFF'));
        await settled(rig, u.chatId);
        assert.equal(rig.fake.sentTo(u.chatId).length, calls, 'no call after the 403');
      });
    }

    it('waits retry_after on 429, then sends the reply', async () => {
      const u = user();
      rig.fake.refuseNext(u.chatId, { kind: 'too-many', retryAfter: 1 });
      await u.send(u.text('/help'));
      await waitFor('refused', () => rig.fake.sentTo(u.chatId).length >= 1);
      const identity = await identityOf(u);
      const row = await waitFor('row rescheduled', async () =>
        (await outboxItemsOf(rig.t, identity.id)).find(
          (item) => item.attempts === 1 && item.status === 'queued',
        ),
      );
      assert.match(row.lastError ?? '', /^telegram 429: Too Many Requests: retry after 1$/);
      const sent = await u.next(5_000);
      assert.match(plain(sent.text), new RegExp(`\n${HELP}$`));
      const calls = rig.fake
        .callsOf('sendMessage')
        .filter((c) => String(c.params.chat_id) === String(u.chatId));
      assert.equal(calls.length, 2, 'one refused call, one delivered');
      assert.equal(calls[1]?.params.text, calls[0]?.params.text);
      // retry_after is 1 s. The outbox schedules on the wall clock in whole milliseconds and a
      // timer may fire a millisecond early, so a few milliseconds short still means "waited".
      const gap = calls[1]!.mono - calls[0]!.mono;
      const shown = `the second call came ${gap.toFixed(1)} ms after the first`;
      assert.ok(gap >= 1_000 - CLOCK_SLACK_MS, shown);
      assert.ok(gap < 5_000, shown);
    });

    it('fails only that message on 400 chat not found, with the reason recorded', async () => {
      const u = user();
      rig.fake.refuseNext(u.chatId, { kind: 'chat-not-found' });
      await u.send(u.text('/help'));
      const identity = await identityOf(u);
      const row = await waitFor('the row to end', async () =>
        (await outboxItemsOf(rig.t, identity.id)).find((item) => item.status === 'failed'),
      );
      assert.equal(row.lastError, 'telegram 400: Bad Request: chat not found');
      assert.equal(row.attempts, 1, 'not retried');
      assert.equal((await identityOf(u)).optedOut, false);
      assert.equal(rig.fake.delivered(u.chatId).length, 0);
      const reply = await u.say('/help');
      assert.match(plain(reply.text), new RegExp(`\n${HELP}$`));
    });
  });
}
