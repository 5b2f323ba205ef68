/**
 * The outbox dispatcher (docs/design.md §2, §8) against a real store (SQLite, or PostgreSQL when
 * TEST_DATABASE_URL is set): pools that do not block each other, quiet hours without a busy
 * loop, deferral without losing an attempt, and the crash bound (leases that were never
 * finished are claimed again once they expire, and there are never more of them than the
 * pool's in-flight limit).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { demoCatalogue } from '../support/harness.js';
import { createTestStore, type TestStore } from '../support/db.js';
import { FakeClock, waitFor } from '../support/harness.js';
import { OutboxDispatcher, type OutboxHandler } from '../../src/core/outbox/dispatcher.js';
import { MessageHandler, type MessageSender } from '../../src/core/outbox/message.handler.js';
import { Translator } from '../../src/core/i18n/translator.js';
import type { Clock } from '../../src/core/ports/clock.port.js';
import type {
  OutboxClaimFilter,
  OutboxItemRecord,
  OutboxLane,
  Store,
} from '../../src/core/ports/store.port.js';

/** A promise to release by hand: a handler "stuck" on a slow provider. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The store, with every claimOutbox call recorded (which pool asked, and when). */
function countingClaims(store: Store): { store: Store; claims: OutboxClaimFilter[] } {
  const claims: OutboxClaimFilter[] = [];
  const wrapped = new Proxy(store, {
    get(target, prop) {
      if (prop === 'claimOutbox') {
        return (...args: Parameters<Store['claimOutbox']>) => {
          claims.push(args[4] ?? { lanes: ['reply', 'work', 'bulk'] });
          return target.claimOutbox(...args);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, claims };
}

/** Where the fake clocks start. */
const T0 = new Date('2026-03-02T09:00:00Z');

/**
 * Writes `count` message items due at `at` (the test's clock: left to itself, the database
 * would stamp them with the real time, which a fake clock may be behind).
 */
async function enqueueMany(
  store: Store,
  lane: OutboxLane,
  count: number,
  extra: { urgent?: boolean; tag?: string; at?: Date } = {},
): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const item = await store.enqueue({
      kind: 'message',
      lane,
      payload: { key: 'help', tag: extra.tag ?? lane, n: i },
      nextAttemptAt: extra.at ?? T0,
      ...(extra.urgent ? { urgent: true } : {}),
    });
    assert.ok(item);
    ids.push(item.id);
  }
  return ids;
}

function tagOf(item: OutboxItemRecord): string {
  return (item.payload as { tag: string }).tag;
}

describe('OutboxDispatcher', () => {
  let db: TestStore;
  const running: OutboxDispatcher[] = [];
  const latches: Array<() => void> = [];

  before(async () => {
    db = await createTestStore();
  });
  after(async () => {
    for (const open of latches) open();
    await Promise.all(running.map((d) => d.stop()));
    await db.close();
  });

  /** Each test works on an empty outbox. */
  async function fresh(): Promise<void> {
    await db.client.outboxItem.deleteMany({});
  }

  function start(
    options: ConstructorParameters<typeof OutboxDispatcher>[2],
    handler: OutboxHandler,
    store: Store = db.store,
    clock: Clock = new FakeClock(T0),
  ): OutboxDispatcher {
    const d = new OutboxDispatcher(store, clock, options).register('message', handler);
    d.start();
    running.push(d);
    return d;
  }

  it('keeps the reply pool free while bulk items are stuck in their handler', async () => {
    await fresh();
    const stuck = latch();
    latches.push(stuck.open);
    let bulkActive = 0;
    let bulkMaxActive = 0;
    let bulkEntered = 0;
    const replies: number[] = [];
    const d = start(
      {
        owner: 'pools',
        pools: [
          { name: 'replies', lanes: ['reply', 'work'], inFlight: 2 },
          { name: 'bulk', lanes: ['bulk'], inFlight: 4 },
        ],
      },
      async (item) => {
        if (item.lane === 'bulk') {
          bulkEntered += 1;
          bulkActive += 1;
          bulkMaxActive = Math.max(bulkMaxActive, bulkActive);
          await stuck.promise;
          bulkActive -= 1;
        } else {
          replies.push(item.id);
        }
        return { status: 'sent' };
      },
    );
    const bulk = await enqueueMany(db.store, 'bulk', 40);
    d.notify();
    await waitFor('the bulk pool full', () => bulkEntered === 4);
    const [reply] = await enqueueMany(db.store, 'reply', 1);
    const [work] = await enqueueMany(db.store, 'work', 1);
    d.notify();
    await waitFor('the reply and the work handled', () => replies.length === 2);
    assert.deepEqual(replies.sort(), [reply, work].sort());
    assert.equal(bulkEntered, 4, 'bulk is still held at its in-flight limit');
    assert.equal(
      await db.client.outboxItem.count({ where: { lane: 'bulk', status: 'leased' } }),
      4,
    );
    stuck.open();
    await waitFor(
      'every bulk item sent',
      async () =>
        (await db.client.outboxItem.count({ where: { id: { in: bulk }, status: 'sent' } })) === 40,
    );
    assert.equal(bulkMaxActive, 4, 'never more bulk in flight than the pool allows');
    await d.stop();
  });

  it('claims only urgent bulk in quiet hours, and wakes itself when they end', async () => {
    await fresh();
    // A clock that is the real one, so that the window ends in real time shortly.
    const clock: Clock = { now: () => new Date() };
    const quietEnd = new Date(Date.now() + 1_500);
    const { store, claims } = countingClaims(db.store);
    const handled: Array<{ tag: string; at: Date }> = [];
    const d = start(
      {
        owner: 'quiet',
        // Nothing but the end of the window can wake the pool in time: no idle polling.
        idleMs: 60_000,
        quietUntil: (now) => (now < quietEnd ? quietEnd : null),
      },
      (item) => {
        handled.push({ tag: tagOf(item), at: clock.now() });
        return Promise.resolve({ status: 'sent' });
      },
      store,
      clock,
    );
    const at = clock.now();
    await enqueueMany(db.store, 'bulk', 2, { tag: 'bulk', at });
    await enqueueMany(db.store, 'bulk', 1, { tag: 'urgent', urgent: true, at });
    await enqueueMany(db.store, 'reply', 1, { tag: 'reply', at });
    d.notify();
    await waitFor('urgent and reply handled', () =>
      ['reply', 'urgent'].every((tag) => handled.some((h) => h.tag === tag)),
    );
    assert.ok(
      handled.filter((h) => h.tag !== 'bulk').every((h) => h.at < quietEnd),
      'urgent bulk and replies go out in quiet hours',
    );
    await waitFor('bulk handled after the window', () => handled.length === 4, 10_000);
    for (const h of handled.filter((x) => x.tag === 'bulk'))
      assert.ok(h.at >= quietEnd, `bulk handled at ${h.at.toISOString()}, inside quiet hours`);
    const bulkClaims = claims.filter((c) => c.lanes.includes('bulk'));
    const quietClaims = bulkClaims.filter((c) => c.bulkUrgentOnly === true);
    assert.ok(quietClaims.length >= 1, 'the bulk pool looked during quiet hours');
    // A busy loop would have made hundreds of claims in 1.5 s.
    assert.ok(bulkClaims.length <= 10, `${bulkClaims.length} claims by the bulk pool`);
    await d.stop();
  });

  it('gives the attempt back when a handler defers', async () => {
    await fresh();
    const clock = new FakeClock(T0);
    const until = new Date(clock.now().getTime() + 10 * 60_000);
    let calls = 0;
    const d = new OutboxDispatcher(db.store, clock, { owner: 'defer' }).register('message', () => {
      calls += 1;
      return Promise.resolve(
        calls === 1
          ? { status: 'deferred', reason: 'quiet hours', until }
          : { status: 'sent', providerMessageId: 'p-1' },
      );
    });
    const [id] = await enqueueMany(db.store, 'bulk', 1);
    assert.equal(await d.drain(), 1);
    const deferred = await db.store.getOutboxItem(id!);
    assert.equal(deferred?.status, 'queued');
    assert.equal(deferred?.attempts, 0, 'a deferral is not an attempt');
    assert.deepEqual(deferred?.nextAttemptAt, until);
    assert.equal(deferred?.leaseOwner, null);
    assert.equal(await d.drain(), 0, 'not due before `until`');
    clock.advance(10 * 60_000);
    assert.equal(await d.drain(), 1);
    const sent = await db.store.getOutboxItem(id!);
    assert.equal(sent?.status, 'sent');
    assert.equal(sent?.attempts, 1);
    assert.equal(sent?.providerMessageId, 'p-1');
  });

  it('defers a bulk message claimed just before quiet hours to their end, keeping its tries', async () => {
    await fresh();
    const clock = new FakeClock(new Date('2026-03-02T18:59:59Z'));
    const quietEnd = new Date('2026-03-03T05:00:00Z');
    const handler = new MessageHandler(db.store, new Translator(demoCatalogue()), clock, {
      quietUntil: (now) => (now.getUTCHours() >= 19 || now.getUTCHours() < 5 ? quietEnd : null),
    });
    const texts: string[] = [];
    const sender: MessageSender = {
      send: ({ text }) => {
        texts.push(text);
        return Promise.resolve({ status: 'sent', providerMessageId: `p-${texts.length}` });
      },
    };
    handler.setSender('sandbox-sms', sender);
    const { identity } = await db.store.ensureIdentity('sandbox-sms', 'quiet-1', 'en');
    const enqueue = (urgent: boolean) =>
      db.store.enqueue({
        kind: 'message',
        lane: 'bulk',
        identityId: identity.id,
        payload: { key: 'help' },
        urgent,
        nextAttemptAt: clock.now(),
      });
    const plain = await enqueue(false);
    const urgent = await enqueue(true);
    // The dispatcher claims both a second before 19:00; quiet hours begin as they are handled.
    const d = new OutboxDispatcher(db.store, clock, { owner: 'edge' }).register(
      'message',
      (item) => {
        clock.advance(1_000);
        return handler.handle(item);
      },
    );
    await d.drain();
    const held = await db.store.getOutboxItem(plain!.id);
    assert.equal(held?.status, 'queued');
    assert.equal(held?.attempts, 0);
    assert.deepEqual(held?.nextAttemptAt, quietEnd);
    assert.equal((await db.store.getOutboxItem(urgent!.id))?.status, 'sent');
    assert.equal(texts.length, 1, 'only the urgent one went out in quiet hours');
  });

  it('fails a message whose key this version does not have at once, instead of retrying it', async () => {
    await fresh();
    const clock = new FakeClock(T0);
    const handler = new MessageHandler(db.store, new Translator(demoCatalogue()), clock);
    const texts: string[] = [];
    handler.setSender('sandbox-sms', {
      send: ({ text }) => {
        texts.push(text);
        return Promise.resolve({ status: 'sent', providerMessageId: `p-${texts.length}` });
      },
    });
    const { identity } = await db.store.ensureIdentity('sandbox-sms', 'retired-key', 'ar');
    // Queued by an older version with a key since retired, and one with an argument missing.
    const retired = await db.store.enqueue({
      kind: 'message',
      lane: 'reply',
      identityId: identity.id,
      payload: { key: 'a-key-no-version-has' },
      nextAttemptAt: clock.now(),
    });
    const incomplete = await db.store.enqueue({
      kind: 'message',
      lane: 'reply',
      identityId: identity.id,
      payload: { key: 'receipt', args: { ref: 'P-1' } },
      nextAttemptAt: clock.now(),
    });
    const d = new OutboxDispatcher(db.store, clock, { owner: 'keys' }).register('message', (item) =>
      handler.handle(item),
    );
    await d.drain();
    for (const item of [retired!, incomplete!]) {
      const row = await db.store.getOutboxItem(item.id);
      assert.equal(row?.status, 'failed', `item ${item.id}`);
      assert.equal(row?.attempts, 1);
      assert.match(row?.lastError ?? '', /message|Unknown variable/);
    }
    assert.deepEqual(texts, []);
  });

  it('does not spin while claims fail (a database refusing writes) with rows already due', async () => {
    await fresh();
    await db.store.enqueue({ kind: 'message', lane: 'reply', payload: 1, nextAttemptAt: T0 });
    let claims = 0;
    const refusing = new Proxy(db.store, {
      get(target, prop) {
        if (prop === 'claimOutbox') {
          return () => {
            claims += 1;
            return Promise.reject(new Error('disk I/O error'));
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const errors: unknown[] = [];
    const d = start(
      {
        owner: 'refused',
        pools: [{ name: 'replies', lanes: ['reply', 'work'], inFlight: 2 }],
        idleMs: 200,
        onError: (e) => errors.push(e),
      },
      () => Promise.resolve({ status: 'sent' }),
      refusing,
    );
    d.notify();
    await new Promise((r) => setTimeout(r, 1_000));
    // One claim per idle interval (about 5 in 1 s), not one per turn of the event loop.
    assert.ok(claims >= 2 && claims <= 10, `claims in 1 s: ${claims}`);
    assert.equal(errors.length, claims);
  });

  it('a broadcast row that fails while its broadcast is cancelled counts as cancelled, not retried', async () => {
    await fresh();
    const clock = new FakeClock(T0);
    const handler = new MessageHandler(db.store, new Translator(demoCatalogue()), clock);
    const { identity } = await db.store.ensureIdentity('sandbox-sms', 'cancel-1', 'ar');
    const broadcast = await db.store.createBroadcast(
      {
        id: 'B-inflight',
        text: { ar: 'رسالة', en: null },
        audience: { all: true },
        channels: ['sms'],
        urgent: true,
        recipients: 0,
        smsPartsPerMessage: 1,
        smsPartsTotal: 0,
        createdBy: 'test',
      },
      clock.now(),
    );
    const row = await db.store.enqueue({
      kind: 'broadcast',
      lane: 'bulk',
      identityId: identity.id,
      broadcastId: broadcast.id,
      payload: {},
      urgent: true,
      nextAttemptAt: clock.now(),
    });
    // The provider answers "try later" while staff cancel: the cancel cannot touch a row in
    // flight, so the row must not go back to the queue.
    handler.setSender('sandbox-sms', {
      send: async () => {
        await db.store.setBroadcastStatus(
          broadcast.id,
          ['planning', 'sending'],
          'cancelled',
          clock.now(),
        );
        assert.equal(await db.store.cancelBroadcastItems(broadcast.id, clock.now()), 0);
        return { status: 'temporary', error: 'busy' };
      },
    });
    const d = new OutboxDispatcher(db.store, clock, { owner: 'one' }).register(
      'broadcast',
      handler.handlerFor(() => Promise.resolve({ text: 'رسالة' })),
    );
    assert.equal(await d.drain(), 1);
    const after = await db.store.getOutboxItem(row!.id);
    assert.equal(after?.status, 'cancelled');
    assert.equal((await db.store.broadcastCounts(broadcast.id)).cancelled, 1);
    clock.advance(3_600_000);
    assert.equal(await d.drain(), 0, 'nothing is tried again');
  });

  it('after a crash, claims again only what was in flight, once its lease expires', async () => {
    await fresh();
    const clock = new FakeClock(T0);
    const leaseMs = 30_000;
    const inFlight = 4;
    // A: takes items and never finishes them (the process that "crashed" mid-send).
    const stuck = latch();
    latches.push(stuck.open);
    const startedByA: number[] = [];
    const a = start(
      {
        owner: 'crashed',
        pools: [{ name: 'bulk', lanes: ['bulk'], inFlight }],
        leaseMs,
        renewEveryMs: 3_600_000,
      },
      async (item) => {
        startedByA.push(item.id);
        await stuck.promise;
        return { status: 'sent' };
      },
      db.store,
      clock,
    );
    const ids = await enqueueMany(db.store, 'bulk', 30);
    a.notify();
    await waitFor('A at its in-flight limit', () => startedByA.length === inFlight);
    // B: the restarted process, on the same outbox.
    const handledByB: number[] = [];
    const b = start(
      { owner: 'restarted', pools: [{ name: 'bulk', lanes: ['bulk'], inFlight: 8 }], leaseMs },
      (item) => {
        handledByB.push(item.id);
        return Promise.resolve({ status: 'sent' });
      },
      db.store,
      clock,
    );
    b.notify();
    await waitFor('B handled what A did not hold', () => handledByB.length === 30 - inFlight);
    assert.equal(startedByA.length, inFlight, 'A never held more than its in-flight limit');
    assert.deepEqual(
      handledByB.filter((id) => startedByA.includes(id)),
      [],
      "B did not take A's items while their leases ran",
    );
    const leased = await db.client.outboxItem.findMany({ where: { status: 'leased' } });
    assert.deepEqual(
      leased.map((r) => r.id).sort((x, y) => x - y),
      [...startedByA].sort((x, y) => x - y),
    );
    // A's leases run out.
    clock.advance(leaseMs + 1);
    b.notify();
    await waitFor('B handled everything', () => handledByB.length === 30);
    assert.deepEqual(
      [...handledByB].sort((x, y) => x - y),
      ids,
      'each item handled once by B',
    );
    const twice = startedByA.filter((id) => handledByB.includes(id));
    assert.equal(twice.length, inFlight, 'the only repeats are what A had in flight');
    // A finishing late changes nothing: its lease is gone.
    stuck.open();
    await a.stop();
    const rows = await db.client.outboxItem.findMany({ where: { id: { in: ids } } });
    assert.ok(rows.every((r) => r.status === 'sent' && r.leaseOwner === null));
    assert.ok(
      rows.filter((r) => startedByA.includes(r.id)).every((r) => r.attempts === 2),
      'the re-claimed items were tried twice',
    );
    await b.stop();
  });

  it('renews the lease of an item still being handled, so no one else takes it', async () => {
    await fresh();
    const clock = new FakeClock(T0);
    const slow = latch();
    latches.push(slow.open);
    let started = 0;
    const a = start(
      {
        owner: 'alive',
        pools: [{ name: 'bulk', lanes: ['bulk'], inFlight: 1 }],
        leaseMs: 30_000,
        renewEveryMs: 20,
      },
      async () => {
        started += 1;
        await slow.promise;
        return { status: 'sent' };
      },
      db.store,
      clock,
    );
    const [id] = await enqueueMany(db.store, 'bulk', 1);
    a.notify();
    await waitFor('A handling it', () => started === 1);
    const other = new OutboxDispatcher(db.store, clock, { owner: 'other' }).register(
      'message',
      () => Promise.resolve({ status: 'sent' }),
    );
    for (let step = 0; step < 3; step++) {
      // 20 s at a time: 60 s in all, twice the lease.
      clock.advance(20_000);
      const expected = clock.now().getTime() + 30_000;
      await waitFor('lease renewed', async () => {
        const row = await db.store.getOutboxItem(id!);
        return row?.leaseUntil?.getTime() === expected;
      });
      assert.equal(await other.drain(), 0, 'the item is still A’s');
    }
    slow.open();
    await waitFor('sent by A', async () => (await db.store.getOutboxItem(id!))?.status === 'sent');
    assert.equal((await db.store.getOutboxItem(id!))?.attempts, 1);
    await a.stop();
  });
});
