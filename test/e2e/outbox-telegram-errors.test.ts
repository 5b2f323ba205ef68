/**
 * How the outbox answers Telegram's refusals (docs/design.md §8), against the local Bot API stand-in:
 * a 429 holds all bulk traffic for retry_after, then the message goes; a 403 ("bot was blocked
 * by the user") opts the chat out and later messages to it are skipped; temporary failures
 * (5xx) are tried again after 5 s, 30 s, 5 min and 30 min, then the message fails.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeTelegram, type RecordedCall } from '../support/fake-telegram.server.js';
import {
  FakeClock,
  removeTestDir,
  startTasdeed,
  waitFor,
  type Running,
} from '../support/harness.js';
import type { OutboxItemRecord, OutboxLane } from '../../src/core/ports/store.port.js';
import { awayFromQuietHours, minGap } from './outbox-rig.js';

/** Tasdeed with Telegram (polling: no webhook needed) against a fresh stand-in. */
async function start(
  env: Record<string, string>,
  clock?: FakeClock,
): Promise<{ t: Running; fake: FakeTelegram; close(): Promise<void> }> {
  const fake = await new FakeTelegram().start();
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-outbox-'));
  try {
    const t = await startTasdeed({
      dir,
      ...(clock ? { clock } : {}),
      env: {
        TELEGRAM_BOT_TOKEN: fake.token,
        TELEGRAM_API_ROOT: fake.apiRoot,
        TELEGRAM_MODE: 'polling',
        ...awayFromQuietHours(clock?.now() ?? new Date()),
        ...env,
      },
    });
    return {
      t,
      fake,
      async close() {
        await t.close();
        await fake.close();
        await removeTestDir(dir);
      },
    };
  } catch (error) {
    await fake.close();
    await removeTestDir(dir);
    throw error;
  }
}

/** Queues a message for a Telegram chat (a subscriber is made for it if need be). */
async function queue(
  t: Running,
  chat: number,
  lane: OutboxLane,
  at: Date,
  key = 'remind-on',
): Promise<OutboxItemRecord> {
  const { identity } = await t.tasdeed.store.ensureIdentity('telegram', String(chat), 'en');
  const item = await t.tasdeed.store.enqueue({
    kind: 'message',
    lane,
    identityId: identity.id,
    payload: { key },
    nextAttemptAt: at,
  });
  assert.ok(item);
  t.tasdeed.dispatcher.notify();
  return item;
}

const sends = (fake: FakeTelegram) => fake.calls.filter((c) => c.method === 'sendMessage');

describe('Telegram refusals: 429 and 403', () => {
  let rig: Awaited<ReturnType<typeof start>>;
  before(async () => {
    // One bulk message a second: one bulk request at a time, so "nothing more was sent after the
    // 429" has no request that was already on its way.
    rig = await start({ TELEGRAM_BULK_PER_SECOND: '1' });
  });
  after(async () => {
    await rig.close();
  });

  it('429: no bulk message reaches Telegram until retry_after has passed, then it is delivered', async () => {
    const chats = [951_001, 951_002, 951_003, 951_004, 951_005];
    const start = sends(rig.fake).length;
    // Whichever bulk message goes first is refused with "retry after 2".
    rig.fake.refuseNextAny({ kind: 'too-many', retryAfter: 2 });
    for (const chat of chats) await queue(rig.t, chat, 'bulk', new Date());
    await waitFor(
      'every chat served',
      () => chats.every((c) => rig.fake.delivered(c).length === 1),
      20_000,
    );
    const calls: RecordedCall[] = sends(rig.fake).slice(start);
    const refused = calls.filter((c) => c.params.__ok !== true);
    assert.equal(refused.length, 1, 'one 429');
    const refusedAt = refused[0]!.mono;
    const tooSoon = calls.filter((c) => c.mono > refusedAt && c.mono < refusedAt + 2_000);
    assert.deepEqual(
      tooSoon.map((c) => c.params.chat_id),
      [],
      'bulk requests within retry_after of the 429',
    );
    // The refused chat got its message after all, once; the others once each.
    assert.equal(calls.length, chats.length + 1);
    const refusedChat = Number(refused[0]!.params.chat_id);
    assert.equal(rig.fake.sentTo(refusedChat).length, 2);
    const identity = await rig.t.tasdeed.store.findIdentity('telegram', String(refusedChat));
    assert.equal(identity?.optedOut, false);
    // And one a second throughout.
    assert.ok(minGap(calls.map((c) => c.mono)) >= 1_000);
  });

  it('403 "bot was blocked by the user": the chat is opted out and later messages skipped', async () => {
    const chat = 952_001;
    rig.fake.refuseNext(chat, { kind: 'blocked' });
    // Two at once: the second waits its turn for the chat while the first is refused.
    const first = await queue(rig.t, chat, 'bulk', new Date());
    const waiting = await queue(rig.t, chat, 'bulk', new Date());
    const identity = await waitFor('opted out', async () => {
      const i = await rig.t.tasdeed.store.findIdentity('telegram', String(chat));
      return i?.optedOut ? i : null;
    });
    assert.equal(identity.optedOut, true);
    const failed = await waitFor('first row final', async () => {
      const row = await rig.t.tasdeed.store.getOutboxItem(first.id);
      return row?.status === 'failed' ? row : null;
    });
    assert.match(failed.lastError ?? '', /403.*blocked/);
    // The one that was waiting, and later messages, bulk or a reply, are not sent.
    const later = [
      waiting,
      await queue(rig.t, chat, 'bulk', new Date()),
      await queue(rig.t, chat, 'reply', new Date(), 'help'),
    ];
    for (const item of later) {
      const row = await waitFor('later row final', async () => {
        const r = await rig.t.tasdeed.store.getOutboxItem(item.id);
        return r && r.status !== 'queued' && r.status !== 'leased' ? r : null;
      });
      assert.equal(row.status, 'skipped');
    }
    assert.equal(rig.fake.sentTo(chat).length, 1, 'Telegram was asked once, for the first');
  });
});

describe('Telegram temporary failures', () => {
  const clock = new FakeClock(new Date());
  let rig: Awaited<ReturnType<typeof start>>;
  before(async () => {
    rig = await start({}, clock);
  });
  after(async () => {
    await rig.close();
  });

  it('retries a 5xx after 5 s, 30 s, 5 min and 30 min, then fails the message', async () => {
    const chat = 953_001;
    rig.fake.refuseNext(chat, { kind: 'server-error' }, 5);
    const item = await queue(rig.t, chat, 'reply', clock.now(), 'help');
    const delays = [5_000, 30_000, 300_000, 1_800_000];
    for (const [i, delay] of delays.entries()) {
      const attempts = i + 1;
      const row = await waitFor(`attempt ${attempts} recorded`, async () => {
        const r = await rig.t.tasdeed.store.getOutboxItem(item.id);
        return r?.status === 'queued' && r.attempts === attempts ? r : null;
      });
      assert.match(row.lastError ?? '', /502/);
      assert.equal(row.nextAttemptAt.getTime(), clock.now().getTime() + delay);
      assert.equal(rig.fake.sentTo(chat).length, attempts);
      // Not a moment early...
      clock.advance(delay - 1);
      assert.equal(await rig.t.tasdeed.dispatcher.drain(), 0, `not tried before ${delay} ms`);
      // ...and then it is tried again.
      clock.advance(1);
      rig.t.tasdeed.dispatcher.notify();
    }
    const failed = await waitFor('failed', async () => {
      const r = await rig.t.tasdeed.store.getOutboxItem(item.id);
      return r?.status === 'failed' ? r : null;
    });
    assert.equal(failed.attempts, 5);
    assert.match(failed.lastError ?? '', /502/);
    assert.equal(rig.fake.sentTo(chat).length, 5);
    assert.equal(rig.fake.delivered(chat).length, 0);
    // A temporary failure says nothing about the person: they are not opted out.
    const identity = await rig.t.tasdeed.store.findIdentity('telegram', String(chat));
    assert.equal(identity?.optedOut, false);
  });
});
