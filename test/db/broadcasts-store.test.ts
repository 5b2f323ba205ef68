/**
 * The store side of broadcasts (docs/design.md §7) on the test database (SQLite, or PostgreSQL when
 * TEST_DATABASE_URL is set): who an audience reaches (every filter given must match; a
 * subscriber's governorates are their own and those of the accounts they follow, as the biller
 * reported them; opted-out addresses never), recipient rows written in resumable batches
 * exactly once each, counts by state, status transitions and cancelling what has not been sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BroadcastService } from '../../src/core/broadcasts/broadcast.service.js';
import type { IdentityChannel, Language } from '../../src/core/domain.js';
import type {
  BroadcastAudience,
  BroadcastChannel,
  IdentityRecord,
  NewBroadcast,
} from '../../src/core/ports/store.port.js';
import type { PrismaStore } from '../../src/db/prisma-store.js';
import { createTestStore, type TestStore } from '../support/db.js';

const NOW = new Date('2026-03-10T09:00:00.000Z');

let t: TestStore;
let store: PrismaStore;

/** Subscribers by name, each with the identities the scenario gives them. */
const people = new Map<string, IdentityRecord[]>();

async function person(
  name: string,
  spec: {
    language?: Language;
    governorate?: string;
    identities: Array<{ channel: IdentityChannel; address: string }>;
    follows?: Array<{ billerId: string; account: string; governorate: string }>;
    optedOut?: string[];
  },
): Promise<void> {
  const [first, ...rest] = spec.identities;
  assert.ok(first);
  const { identity } = await store.ensureIdentity(
    first.channel,
    first.address,
    spec.language ?? 'ar',
  );
  const identities = [identity];
  for (const extra of rest) {
    // A second address of the same person (a Telegram user who shared their phone number).
    const row = await t.client.identity.create({
      data: {
        id: `${identity.subscriberId}-${extra.channel}`,
        subscriberId: identity.subscriberId,
        channel: extra.channel,
        address: extra.address,
      },
    });
    identities.push({ ...identity, id: row.id, channel: extra.channel, address: extra.address });
  }
  if (spec.governorate)
    await store.updateSubscriber(identity.subscriberId, { governorate: spec.governorate });
  for (const f of spec.follows ?? []) {
    assert.equal(await store.followUpTo(identity.subscriberId, f.billerId, f.account, 10), 'added');
    await store.saveAccountSnapshot({
      billerId: f.billerId,
      account: f.account,
      holder: 'سارة',
      governorate: f.governorate,
      fetchedAt: NOW,
      bills: [],
    });
  }
  for (const address of spec.optedOut ?? []) {
    const id = identities.find((i) => i.address === address)?.id;
    assert.ok(id);
    await store.setOptedOut(id, true, NOW);
  }
  people.set(name, identities);
}

/** The names of the people (with channel) an audience reaches, from the planned rows. */
async function planned(broadcastId: string): Promise<string[]> {
  const rows = await t.client.outboxItem.findMany({ where: { broadcastId } });
  const names: string[] = [];
  for (const row of rows) {
    const entry = [...people].find(([, ids]) => ids.some((i) => i.id === row.identityId));
    assert.ok(entry, `row for an unknown identity ${row.identityId}`);
    names.push(`${entry[0]}:${row.channel}`);
  }
  return names.sort();
}

let nextId = 1;
function newBroadcast(
  audience: BroadcastAudience,
  channels: BroadcastChannel[] = ['sms', 'telegram'],
  extra: Partial<NewBroadcast> = {},
): NewBroadcast {
  return {
    id: `B-test-${nextId++}`,
    text: { ar: 'انقطاع مبرمج', en: 'Planned outage' },
    audience,
    channels,
    urgent: false,
    recipients: 0,
    smsPartsPerMessage: 1,
    smsPartsTotal: 0,
    createdBy: 'test',
    ...extra,
  };
}

async function planAll(id: string, batchSize = 1_000): Promise<number> {
  let written = 0;
  for (let i = 0; i < 1_000; i++) {
    const r = await store.planBroadcastBatch(id, batchSize, NOW);
    written += r.written;
    if (r.done) return written;
  }
  throw new Error('planning never finished');
}

async function reach(audience: BroadcastAudience, channels?: BroadcastChannel[]) {
  const b = await store.createBroadcast(newBroadcast(audience, channels), NOW);
  await planAll(b.id);
  const counted = (await store.countAudience(audience, channels ?? ['sms', 'telegram'])).reduce(
    (n, g) => n + g.count,
    0,
  );
  const names = await planned(b.id);
  assert.equal(counted, names.length, 'countAudience agrees with the rows planned');
  return names;
}

describe('broadcast audiences and planning', () => {
  before(async () => {
    t = await createTestStore();
    store = t.store;
    // Own governorate only.
    await person('damOwn', {
      governorate: 'DAM',
      identities: [{ channel: 'telegram', address: '501' }],
    });
    // Lives in Aleppo (own), follows a Damascus electricity account (as the biller reported it).
    await person('aleFollowsDam', {
      language: 'en',
      governorate: 'ALE',
      identities: [{ channel: 'sms', address: '+963944000002' }],
      follows: [{ billerId: 'electricity', account: '1000101', governorate: 'DAM' }],
    });
    // No own governorate; follows Aleppo water.
    await person('waterAle', {
      identities: [{ channel: 'telegram', address: '503' }],
      follows: [{ billerId: 'water', account: '2000301', governorate: 'ALE' }],
    });
    // Both channels (Telegram and a shared phone number), Homs, English.
    await person('both', {
      language: 'en',
      governorate: 'HOM',
      identities: [
        { channel: 'telegram', address: '504' },
        { channel: 'sms', address: '+963944000004' },
      ],
    });
    // Sandbox identities stand in for the real channels.
    await person('sandbox', {
      governorate: 'DAM',
      identities: [{ channel: 'sandbox-sms', address: '+963944000005' }],
    });
    // Opted out on Telegram only; SMS still reachable.
    await person('halfOut', {
      governorate: 'DAM',
      identities: [
        { channel: 'telegram', address: '506' },
        { channel: 'sms', address: '+963944000006' },
      ],
      optedOut: ['506'],
    });
    // Opted out of everything: never reached.
    await person('out', {
      governorate: 'DAM',
      identities: [{ channel: 'telegram', address: '507' }],
      follows: [{ billerId: 'electricity', account: '1000101', governorate: 'DAM' }],
      optedOut: ['507'],
    });
  });
  after(async () => {
    await t.close();
  });

  test('all: every reachable address, opted-out ones left out', async () => {
    assert.deepEqual(await reach({ all: true }), [
      'aleFollowsDam:sms',
      'both:sms',
      'both:telegram',
      'damOwn:telegram',
      'halfOut:sms',
      'sandbox:sandbox-sms',
      'waterAle:telegram',
    ]);
  });

  test('governorates: own or of a followed account', async () => {
    assert.deepEqual(await reach({ governorates: ['DAM'] }), [
      'aleFollowsDam:sms',
      'damOwn:telegram',
      'halfOut:sms',
      'sandbox:sandbox-sms',
    ]);
    assert.deepEqual(await reach({ governorates: ['ALE'] }), [
      'aleFollowsDam:sms',
      'waterAle:telegram',
    ]);
    assert.deepEqual(await reach({ governorates: ['QUN'] }), []);
  });

  test('billers, languages, and all of them at once', async () => {
    assert.deepEqual(await reach({ billers: ['electricity'] }), ['aleFollowsDam:sms']);
    assert.deepEqual(await reach({ billers: ['water', 'electricity'] }), [
      'aleFollowsDam:sms',
      'waterAle:telegram',
    ]);
    assert.deepEqual(await reach({ languages: ['en'] }), [
      'aleFollowsDam:sms',
      'both:sms',
      'both:telegram',
    ]);
    assert.deepEqual(await reach({ governorates: ['DAM'], languages: ['en'] }), [
      'aleFollowsDam:sms',
    ]);
    assert.deepEqual(await reach({ governorates: ['HOM'], billers: ['electricity'] }), []);
    assert.deepEqual(
      await reach({ governorates: ['ALE'], billers: ['water'], languages: ['ar'] }),
      ['waterAle:telegram'],
    );
  });

  test('channels: only the listed ones (the sandbox counting as its real channel)', async () => {
    assert.deepEqual(await reach({ all: true }, ['sms']), [
      'aleFollowsDam:sms',
      'both:sms',
      'halfOut:sms',
      'sandbox:sandbox-sms',
    ]);
    assert.deepEqual(await reach({ governorates: ['DAM'] }, ['telegram']), ['damOwn:telegram']);
  });

  test('countAudience groups by channel and language (what SMS parts are priced on)', async () => {
    const groups = await store.countAudience({ all: true }, ['sms']);
    const key = (g: { channel: string; language: string }) => `${g.channel}/${g.language}`;
    assert.deepEqual(Object.fromEntries(groups.map((g) => [key(g), g.count])), {
      'sms/ar': 1,
      'sms/en': 2,
      'sandbox-sms/ar': 1,
    });
  });

  test('planning in small batches resumes from its cursor and writes each recipient once', async () => {
    const b = await store.createBroadcast(
      newBroadcast({ all: true }, undefined, { urgent: true }),
      NOW,
    );
    assert.equal(b.status, 'planning');
    assert.deepEqual(
      (await store.broadcastsPlanning()).map((x) => x.id),
      [b.id],
    );
    // A batch is the next 3 identities; those outside the audience are not written.
    const first = await store.planBroadcastBatch(b.id, 3, NOW);
    assert.equal(first.done, false);
    assert.ok(first.written >= 1 && first.written <= 3, `first batch wrote ${first.written}`);
    const cursor = (await store.getBroadcast(b.id))?.planCursor;
    assert.ok(cursor);
    // As after a crash: another planner picks the broadcast up and goes on from the cursor.
    const written = first.written + (await planAll(b.id, 3));
    assert.equal(written, 7);
    const rows = await t.client.outboxItem.findMany({ where: { broadcastId: b.id } });
    assert.equal(rows.length, 7);
    assert.equal(new Set(rows.map((r) => r.identityId)).size, 7);
    for (const row of rows) {
      assert.equal(row.kind, 'broadcast');
      assert.equal(row.lane, 'bulk');
      assert.equal(row.status, 'queued');
      assert.equal(row.urgent, true);
      assert.equal(row.dedupeKey, `bc:${b.id}:${row.identityId}`);
    }
    const done = await store.getBroadcast(b.id);
    assert.equal(done?.status, 'sending');
    assert.equal(done?.recipients, 7);
    assert.deepEqual(await store.broadcastsPlanning(), []);
    // Planning again writes nothing.
    assert.deepEqual(await store.planBroadcastBatch(b.id, 3, NOW), { written: 0, done: true });
    // Rewinding the cursor (a batch written twice) is harmless: the dedupe key holds.
    await t.client.broadcast.update({
      where: { id: b.id },
      data: { status: 'planning', planCursor: null },
    });
    assert.equal(await planAll(b.id, 100), 0);
    assert.equal(await t.client.outboxItem.count({ where: { broadcastId: b.id } }), 7);
  });

  test('counts by state, cancelling only what is queued, and status transitions', async () => {
    const b = await store.createBroadcast(newBroadcast({ all: true }), NOW);
    await planAll(b.id);
    const rows = await t.client.outboxItem.findMany({
      where: { broadcastId: b.id },
      orderBy: { id: 'asc' },
    });
    assert.equal(rows.length, 7);
    const [r0, r1, r2, r3, r4] = rows;
    await t.client.outboxItem.update({
      where: { id: r0!.id },
      data: { status: 'sent', deliveryStatus: 'delivered' },
    });
    await t.client.outboxItem.update({ where: { id: r1!.id }, data: { status: 'sent' } });
    await t.client.outboxItem.update({ where: { id: r2!.id }, data: { status: 'failed' } });
    await t.client.outboxItem.update({ where: { id: r3!.id }, data: { status: 'skipped' } });
    await t.client.outboxItem.update({
      where: { id: r4!.id },
      data: { status: 'leased', leaseOwner: 'x', leaseUntil: new Date(NOW.getTime() + 60_000) },
    });
    assert.deepEqual(await store.broadcastCounts(b.id), {
      queued: 3, // two queued and one in flight
      sent: 2,
      delivered: 1,
      failed: 1,
      skipped: 1,
      cancelled: 0,
    });
    // Cancel: only queued rows; the one in flight finishes as it will.
    assert.equal(
      await store.setBroadcastStatus(b.id, ['planning', 'sending'], 'cancelled', NOW),
      true,
    );
    assert.equal(await store.cancelBroadcastItems(b.id, NOW), 2);
    assert.deepEqual(await store.broadcastCounts(b.id), {
      queued: 1,
      sent: 2,
      delivered: 1,
      failed: 1,
      skipped: 1,
      cancelled: 2,
    });
    const cancelled = await store.getBroadcast(b.id);
    assert.equal(cancelled?.status, 'cancelled');
    assert.deepEqual(cancelled?.cancelledAt, NOW);
    assert.deepEqual(cancelled?.finishedAt, NOW);
    // A finished broadcast does not move again.
    assert.equal(await store.setBroadcastStatus(b.id, ['planning', 'sending'], 'done', NOW), false);
    assert.equal(
      await store.setBroadcastStatus(b.id, ['planning', 'sending'], 'cancelled', NOW),
      false,
    );
    // Cancelling while still planning stops the planner at its next batch.
    const c = await store.createBroadcast(newBroadcast({ all: true }), NOW);
    const firstBatch = await store.planBroadcastBatch(c.id, 2, NOW);
    assert.ok(firstBatch.written > 0 && !firstBatch.done);
    await store.setBroadcastStatus(c.id, ['planning', 'sending'], 'cancelled', NOW);
    await store.cancelBroadcastItems(c.id, NOW);
    assert.deepEqual(await store.planBroadcastBatch(c.id, 2, NOW), { written: 0, done: true });
    assert.deepEqual(await store.broadcastCounts(c.id), {
      queued: 0,
      sent: 0,
      delivered: 0,
      failed: 0,
      skipped: 0,
      cancelled: firstBatch.written,
    });
    assert.equal((await store.getBroadcast(c.id))?.status, 'cancelled');
  });

  test('records read back as written; newest first in the list', async () => {
    const n = newBroadcast({ governorates: ['DAM'], languages: ['en'] }, ['telegram'], {
      text: { ar: 'نص', en: null },
      smsPartsTotal: 0,
      smsPartsPerMessage: 0,
      recipients: 4,
    });
    const later = new Date(NOW.getTime() + 60_000);
    const b = await store.createBroadcast(n, later);
    const read = await store.getBroadcast(b.id);
    assert.deepEqual(read, {
      ...n,
      status: 'planning',
      planCursor: null,
      createdAt: later,
      cancelledAt: null,
      finishedAt: null,
    });
    assert.equal((await store.listBroadcasts(1))[0]?.id, b.id);
    assert.equal(await store.getBroadcast('B-none'), null);
  });
});

describe('BroadcastService planning over the store', () => {
  before(async () => {
    t = await createTestStore();
    store = t.store;
    people.clear();
    for (let i = 0; i < 25; i++) {
      await person(`p${i}`, { identities: [{ channel: 'telegram', address: String(700 + i) }] });
    }
  });
  after(async () => {
    await t.close();
  });

  const clock = { now: () => NOW };

  test('a broadcast a crash left half planned is finished by resume() at the next start', async () => {
    const b = await store.createBroadcast(newBroadcast({ all: true }), NOW);
    // The first process wrote one batch, then died.
    await store.planBroadcastBatch(b.id, 10, NOW);
    const queued: number[] = [];
    const service = new BroadcastService(store, clock, {
      smsParts: () => 1,
      batchSize: 4,
      onQueued: () => queued.push(1),
    });
    assert.equal(await service.resume(), 1);
    await service.idle();
    const rows = await t.client.outboxItem.findMany({ where: { broadcastId: b.id } });
    assert.equal(rows.length, 25);
    assert.equal(new Set(rows.map((r) => r.identityId)).size, 25);
    assert.ok(queued.length >= 4, 'the dispatcher is woken as batches are written');
    const p = await service.progress(b.id);
    assert.equal(p?.status, 'sending');
    assert.equal(p?.recipients, 25);
    assert.equal(p?.counts.queued, 25);
    await service.stop();
  });

  test('a batch that fails is tried again; the broadcast does not stay half planned', async () => {
    let failures = 2;
    const errors: unknown[] = [];
    const flaky = Object.create(store) as PrismaStore;
    flaky.planBroadcastBatch = (id, size, now) => {
      if (failures > 0) {
        failures -= 1;
        return Promise.reject(new Error('database is locked'));
      }
      return store.planBroadcastBatch(id, size, now);
    };
    const service = new BroadcastService(flaky, clock, {
      smsParts: () => 1,
      batchSize: 10,
      retryMs: 5,
      onError: (error) => errors.push(error),
    });
    const b = await service.create({
      text: { ar: 'نص' },
      audience: { all: true },
      createdBy: 'test',
    });
    assert.equal(b.recipients, 25);
    await service.idle();
    assert.equal(errors.length, 2);
    assert.equal(await t.client.outboxItem.count({ where: { broadcastId: b.id } }), 25);
    assert.equal((await store.getBroadcast(b.id))?.status, 'sending');
    await service.stop();
  });

  test('cancel: queued rows cancelled; a finished broadcast is reported finished', async () => {
    const service = new BroadcastService(store, clock, { smsParts: () => 1 });
    const b = await service.create({ text: { ar: 'نص' }, audience: { all: true }, createdBy: 't' });
    await service.idle();
    assert.equal(await service.cancel(b.id), 'cancelled');
    assert.equal(await service.cancel(b.id), 'cancelled', 'cancelling again changes nothing');
    const p = await service.progress(b.id);
    assert.equal(p?.status, 'cancelled');
    assert.equal(p?.counts.cancelled, 25);
    assert.equal(await service.cancel('B-none'), 'unknown');
    // Every row final (here: marked sent by hand) → done, and too late to cancel.
    const c = await service.create({ text: { ar: 'نص' }, audience: { all: true }, createdBy: 't' });
    await service.idle();
    await t.client.outboxItem.updateMany({
      where: { broadcastId: c.id },
      data: { status: 'sent' },
    });
    assert.equal(await service.cancel(c.id), 'finished');
    assert.equal((await store.getBroadcast(c.id))?.status, 'done');
    assert.equal((await service.list(10)).find((x) => x.id === c.id)?.status, 'done');
    await service.stop();
  });

  test('compose: the recipient’s language, the Arabic text without an English one', async () => {
    const service = new BroadcastService(store, clock, { smsParts: () => 1 });
    const both = await service.create({
      text: { ar: 'نص عربي', en: 'English text' },
      audience: { all: true },
      createdBy: 't',
    });
    const arOnly = await service.create({
      text: { ar: 'نص فقط' },
      audience: { all: true },
      createdBy: 't',
    });
    await service.idle();
    const row = await t.client.outboxItem.findFirstOrThrow({ where: { broadcastId: both.id } });
    const item = (await store.getOutboxItem(row.id))!;
    const identity = (await store.getIdentity(row.identityId!))!;
    const subscriber = (await store.getSubscriber(identity.subscriberId))!;
    assert.deepEqual(await service.compose(item, identity, subscriber), { text: 'نص عربي' });
    const en = { ...subscriber, language: 'en' as const };
    assert.deepEqual(await service.compose(item, identity, en), { text: 'English text' });
    const other = await t.client.outboxItem.findFirstOrThrow({ where: { broadcastId: arOnly.id } });
    const otherItem = (await store.getOutboxItem(other.id))!;
    assert.deepEqual(await service.compose(otherItem, identity, en), { text: 'نص فقط' });
    await service.cancel(arOnly.id);
    assert.deepEqual(await service.compose(otherItem, identity, en), {
      cancel: 'broadcast cancelled',
    });
    await service.stop();
  });
});
