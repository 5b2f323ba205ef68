/**
 * Where PostgreSQL behaves differently from SQLite (docs/design.md §10), on a real server: migrations
 * applied once by instances starting together (advisory lock) and refused once edited; outbox
 * claims with FOR UPDATE SKIP LOCKED from several connections; a unique violation inside a
 * transaction (which aborts a PostgreSQL transaction) answered without losing the
 * transaction; and the hand-written planning SQL giving the same rows as on SQLite.
 *
 * Run when TEST_DATABASE_URL is set; skipped otherwise, with NO_POSTGRES as the reason.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { IdentityChannel } from '../../src/core/domain.js';
import { qirsh } from '../../src/core/money.js';
import type {
  BroadcastAudience,
  BroadcastChannel,
  NewPayment,
} from '../../src/core/ports/store.port.js';
import { MigrationError, readMigrationFiles } from '../../src/db/migrate.js';
import {
  DEFAULT_POSTGRES_MIGRATIONS_DIR,
  MIGRATION_LOCK_KEY,
  migratePostgres,
} from '../../src/db/postgres.js';
import type { OutboxItem } from '../../src/generated/prisma/client.js';
import {
  createPostgresTestStore,
  createSqliteTestStore,
  type Connection,
  type TestStore,
} from '../support/db.js';
import { waitFor } from '../support/harness.js';
import { createTestDatabase, onlyPostgres, type TestDatabase } from '../support/pg.js';

const NOW = new Date('2026-11-25T07:00:00.000Z');
const HOUR = 3_600_000;
const MIGRATIONS = readMigrationFiles(DEFAULT_POSTGRES_MIGRATIONS_DIR).map((f) => f.name);

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function migrationError(code: MigrationError['code'], migration: string) {
  return (error: unknown) =>
    error instanceof MigrationError && error.code === code && error.migration === migration;
}

describe('PostgreSQL migrations', onlyPostgres, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  it('three instances starting together apply each migration once, one after the other', async () => {
    // Hold the runners' advisory lock, so that all three are surely waiting at once.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const runs = Promise.all([1, 2, 3].map(() => migratePostgres(db.url)));
      runs.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
      await waitFor('three runners waiting for the migration lock', async () => {
        const r = await holder.query<{ n: number }>(
          `SELECT COUNT(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
           WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`,
        );
        return r.rows[0]?.n === 3;
      });
      const tables = await holder.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'public'`);
      assert.equal(tables.rowCount, 0, 'nothing is applied while the lock is held');
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);

      const results = await runs;
      assert.deepEqual(
        results.map((r) => r.applied.length).sort(),
        [0, 0, MIGRATIONS.length],
        'the first applies everything, the others find nothing left to do',
      );
      assert.deepEqual(results.flatMap((r) => r.applied).sort(), MIGRATIONS);
      const recorded = await holder.query<{ name: string }>(
        'SELECT "name" FROM "_tasdeed_migrations" ORDER BY "name"',
      );
      assert.deepEqual(
        recorded.rows.map((r) => r.name),
        MIGRATIONS,
      );
      // The schema is there: a table of the last migration answers.
      await holder.query('SELECT COUNT(*) FROM "Instance"');
    } finally {
      await holder.end();
    }
    assert.deepEqual(await migratePostgres(db.url), { applied: [] });
  });

  it('refuses an applied migration that was edited or removed, and rolls back a failing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasdeed-pg-migrations-'));
    const fresh = await createTestDatabase();
    try {
      cpSync(DEFAULT_POSTGRES_MIGRATIONS_DIR, dir, { recursive: true });
      assert.deepEqual((await migratePostgres(fresh.url, dir)).applied, MIGRATIONS);

      const first = join(dir, MIGRATIONS[0]!);
      appendFileSync(first, '\n-- edited afterwards\n');
      await assert.rejects(
        migratePostgres(fresh.url, dir),
        migrationError('MIGRATION.EDITED', MIGRATIONS[0]!),
      );
      cpSync(join(DEFAULT_POSTGRES_MIGRATIONS_DIR, MIGRATIONS[0]!), first);

      const last = MIGRATIONS.at(-1)!;
      unlinkSync(join(dir, last));
      await assert.rejects(
        migratePostgres(fresh.url, dir),
        migrationError('MIGRATION.MISSING', last),
      );
      cpSync(join(DEFAULT_POSTGRES_MIGRATIONS_DIR, last), join(dir, last));

      // A new migration that fails half-way leaves nothing behind.
      writeFileSync(
        join(dir, '9999_broken.sql'),
        'CREATE TABLE "Broken" ("a" INTEGER);\nSELECT "nope" FROM "Broken";\n',
      );
      await assert.rejects(
        migratePostgres(fresh.url, dir),
        migrationError('MIGRATION.FAILED', '9999_broken.sql'),
      );
      await withClient(fresh.url, async (c) => {
        const table = await c.query<{ t: string | null }>(`SELECT to_regclass('"Broken"') AS t`);
        assert.equal(table.rows[0]?.t, null, 'the failed migration was rolled back');
        const recorded = await c.query('SELECT 1 FROM "_tasdeed_migrations"');
        assert.equal(recorded.rowCount, MIGRATIONS.length);
      });
      // Fixed, it applies (and the failed run left no lock behind).
      writeFileSync(join(dir, '9999_broken.sql'), 'CREATE TABLE "Broken" ("a" INTEGER);\n');
      assert.deepEqual((await migratePostgres(fresh.url, dir)).applied, ['9999_broken.sql']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await fresh.drop();
    }
  });
});

describe('PostgreSQL: outbox claims with SKIP LOCKED', onlyPostgres, () => {
  let t: TestStore;
  before(async () => {
    t = await createPostgresTestStore();
  });
  after(async () => {
    await t?.close();
  });

  async function queued(n: number, tag: string): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const item = await t.store.enqueue({
        kind: 'message',
        lane: (['reply', 'work', 'bulk'] as const)[i % 3]!,
        dedupeKey: `${tag}-${i}`,
        payload: i,
        nextAttemptAt: new Date(NOW.getTime() - 1_000),
      });
      ids.push(item!.id);
    }
    return ids;
  }

  it('several instances claiming at once never get the same row twice', async () => {
    const ids = await queued(240, 'race');
    const others: Connection[] = [t.connect(), t.connect(), t.connect()];
    try {
      const stores = [t.store, ...others.map((o) => o.store)];
      const claimed = await Promise.all(
        stores.map(async (store, w) => {
          const mine: number[] = [];
          for (;;) {
            const got = await store.claimOutbox(`w${w}`, NOW, 60_000, 7);
            if (got.length === 0) return mine;
            for (const item of got) {
              assert.equal(item.status, 'leased');
              assert.equal(item.leaseOwner, `w${w}`);
            }
            mine.push(...got.map((item) => item.id));
          }
        }),
      );
      const all = claimed.flat();
      assert.equal(new Set(all).size, all.length, 'no row claimed twice');
      assert.deepEqual(
        all.sort((a, b) => a - b),
        ids,
      );
      // A row claimed twice would have been counted twice.
      const rows = await t.client.outboxItem.findMany({ where: { id: { in: ids } } });
      assert.ok(rows.every((r) => r.attempts === 1 && r.status === 'leased'));
    } finally {
      for (const o of others) await o.close();
    }
  });

  it('a claim passes over rows another transaction holds instead of waiting for them', async () => {
    const ids = await queued(6, 'locked');
    const reply = ids.filter((_, i) => i % 3 === 0); // the reply lane's two rows
    await withClient(t.url, async (locker) => {
      // Should the claim wait for the lock after all, the server ends the locker's session
      // after a while: the claim then takes the row and the assertion below says so.
      locker.on('error', () => undefined);
      await locker.query(`SET idle_in_transaction_session_timeout = '10s'`);
      await locker.query('BEGIN');
      await locker.query('SELECT "id" FROM "OutboxItem" WHERE "id" = ANY($1) FOR UPDATE', [
        [reply[0]],
      ]);
      // Answers while the lock is held (a plain FOR UPDATE would wait for it).
      const got = await t.store.claimOutbox('w-a', NOW, 60_000, 10);
      assert.deepEqual(
        got.map((i) => i.id).sort((a, b) => a - b),
        ids.filter((id) => id !== reply[0]),
      );
      await locker.query('COMMIT');
    });
    const rest = await t.store.claimOutbox('w-b', NOW, 60_000, 10);
    assert.deepEqual(
      rest.map((i) => i.id),
      [reply[0]],
    );
  });
});

describe('PostgreSQL: a unique violation inside a transaction', onlyPostgres, () => {
  let t: TestStore;
  before(async () => {
    t = await createPostgresTestStore();
  });
  after(async () => {
    await t?.close();
  });

  function newPayment(id: string, openKey: string): NewPayment {
    return {
      id,
      subscriberId: 'sub-1',
      identityId: 'idn-1',
      billerId: 'electricity',
      account: '123456',
      billId: openKey,
      amountMinor: qirsh(1_875_000),
      currency: 'SYP',
      channelId: 'wallet',
      payerAddress: '+963944123456',
      status: 'created',
      openKey,
      deadlineAt: new Date(NOW.getTime() + HOUR),
    };
  }

  it('answers "already there" and the transaction carries on and commits', async () => {
    const subscriberId = await t.store.transaction(async (tx) => {
      const { identity } = await tx.ensureIdentity('sms', '+963944000001', 'ar');
      const again = await tx.ensureIdentity('sms', '+963944000001', 'en');
      assert.equal(again.created, false);
      assert.equal(again.identity.id, identity.id);
      const sub = identity.subscriberId;
      assert.equal(await tx.followUpTo(sub, 'electricity', '1000101', 10), 'added');
      assert.equal(await tx.followUpTo(sub, 'electricity', '1000101', 10), 'already');
      const item = { kind: 'message' as const, lane: 'reply' as const, payload: 1 };
      assert.ok(await tx.enqueue({ ...item, dedupeKey: 'k-1' }));
      assert.equal(await tx.enqueue({ ...item, dedupeKey: 'k-1' }), null);
      const first = await tx.createPayment(newPayment('p-1', 'electricity:B-1'));
      const second = await tx.createPayment(newPayment('p-2', 'electricity:B-1'));
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.equal(second.payment.id, 'p-1');
      const event = {
        channelId: 'wallet',
        eventId: 'evt-1',
        paymentId: 'p-1',
        source: 'webhook' as const,
        status: 'succeeded',
        amountMinor: null,
        occurredAt: null,
        outcome: 'applied',
      };
      assert.equal(await tx.recordPaymentEvent(event), true);
      assert.equal(await tx.recordPaymentEvent(event), false);
      const watch = { kind: 'biller' as const, target: 'electricity', subscriberId: sub };
      assert.equal(await tx.addWatch({ ...watch, identityId: identity.id }), true);
      assert.equal(await tx.addWatch({ ...watch, identityId: identity.id }), false);
      assert.equal(await tx.recordTelegramUpdate(1, '{}'), true);
      assert.equal(await tx.recordTelegramUpdate(1, '{}'), false);
      // Still a working transaction: a write after all those violations.
      await tx.audit({ actor: 'test', entity: 'payment', entityId: 'p-1', action: 'after' });
      return sub;
    });
    // Everything the transaction wrote was committed, once.
    assert.equal((await t.store.followsOf(subscriberId)).length, 1);
    assert.equal(await t.client.outboxItem.count({ where: { dedupeKey: 'k-1' } }), 1);
    assert.equal(await t.client.payment.count({ where: { openKey: 'electricity:B-1' } }), 1);
    assert.equal((await t.store.paymentEvents('p-1')).length, 1);
    assert.equal(await t.store.hasWatches('biller', 'electricity'), true);
    assert.equal((await t.store.unprocessedTelegramUpdates(10)).length, 1);
    assert.equal((await t.store.auditTrail('payment', 'p-1')).length, 1);
    assert.equal(await t.client.subscriber.count({ where: { id: subscriberId } }), 1);
  });

  it('createPayment racing in transactions on two connections: one created, all commit', async () => {
    const other = t.connect();
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? other.store : t.store).transaction(async (tx) => {
            const r = await tx.createPayment(newPayment(`race-${i}`, 'electricity:B-race'));
            // The loser's transaction goes on after its failed insert.
            await tx.audit({ actor: `tx-${i}`, entity: 'race', entityId: 'B-race', action: 'x' });
            return r;
          }),
        ),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.payment.id)).size, 1);
      assert.equal(await t.client.payment.count({ where: { openKey: 'electricity:B-race' } }), 1);
      assert.equal((await t.store.auditTrail('race', 'B-race')).length, 6);
    } finally {
      await other.close();
    }
  });

  it('ensureIdentity racing in transactions on two connections: one subscriber', async () => {
    const other = t.connect();
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? other.store : t.store).transaction(async (tx) => {
            const r = await tx.ensureIdentity('telegram', '777000', 'ar');
            await tx.audit({ actor: `tx-${i}`, entity: 'ident', entityId: '777000', action: 'x' });
            return r;
          }),
        ),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.identity.id)).size, 1);
      const subscriberId = results[0]!.identity.subscriberId;
      assert.deepEqual(
        (await t.client.identity.findMany({ where: { address: '777000' } })).map(
          (r) => r.subscriberId,
        ),
        [subscriberId],
      );
      // No orphan subscriber left by the losers.
      assert.equal(await t.client.subscriber.count({ where: { identities: { none: {} } } }), 0);
      assert.equal((await t.store.auditTrail('ident', '777000')).length, 6);
    } finally {
      await other.close();
    }
  });
});

// -----------------------------------------------------------------------------------------------
// The same data on both databases: the planning SQL must give the same rows.

/** A small deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const DUE_DATES = ['2026-11-22', '2026-11-25', '2026-11-28', '2026-11-29'];
const GOVERNORATES = ['DAM', 'ALE', 'HOM', 'LAT'];
const CHANNELS: IdentityChannel[] = ['telegram', 'sms', 'sandbox-telegram', 'sandbox-sms'];

/** Ids in several shapes (case, separators): the ordering of text ids must agree too. */
function identityId(n: number): string {
  const shapes = [`i-${n}`, `I${n}`, `id_${n}`, `${n}x`, `Id-${n}`];
  return shapes[n % shapes.length]!;
}

async function seed(t: TestStore): Promise<void> {
  const next = random(20261125);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const db = t.client;
  const accounts = Array.from({ length: 30 }, (_, i) => String(1_000_100 + i));
  await db.billAccount.createMany({
    data: accounts.map((account, i) => ({
      billerId: i % 4 === 0 ? 'water' : 'electricity',
      account,
      holder: 'سارة',
      governorate: pick(GOVERNORATES),
      fetchedAt: new Date(NOW.getTime() - Math.floor(next() * 48) * HOUR),
    })),
  });
  const bills = accounts.flatMap((account, i) =>
    Array.from({ length: 1 + (i % 2) }, (_, k) => ({
      billerId: i % 4 === 0 ? 'water' : 'electricity',
      billId: `B-${account}-${k}`,
      account,
      period: '9-10',
      amountMinor: 1_000_000 + i,
      currency: 'SYP',
      dueDate: pick(DUE_DATES),
      status: next() < 0.8 ? 'unpaid' : 'paid',
      fetchedAt: NOW,
    })),
  );
  await db.bill.createMany({ data: bills });
  let n = 0;
  for (let s = 0; s < 60; s++) {
    const subscriberId = `S${s}`;
    await db.subscriber.create({
      data: {
        id: subscriberId,
        language: next() < 0.7 ? 'ar' : 'en',
        governorate: next() < 0.3 ? null : pick(GOVERNORATES),
        remindersEnabled: next() < 0.85,
      },
    });
    const channels = [...new Set([pick(CHANNELS), pick(CHANNELS), pick(CHANNELS)])].slice(
      0,
      1 + Math.floor(next() * 3),
    );
    for (const channel of channels) {
      await db.identity.create({
        data: {
          id: identityId(++n),
          subscriberId,
          channel,
          address: `${channel}:${s}`,
          optedOut: next() < 0.15,
        },
      });
    }
    const follows = new Set(Array.from({ length: Math.floor(next() * 4) }, () => pick(accounts)));
    for (const account of follows) {
      const billerId = accounts.indexOf(account) % 4 === 0 ? 'water' : 'electricity';
      await db.followedAccount.create({
        data: { id: `F-${s}-${account}`, subscriberId, billerId, account },
      });
    }
  }
  // Bills with a payment under way (no reminder) or failed (a reminder after all).
  for (const [i, bill] of bills.slice(0, 12).entries()) {
    await t.store.createPayment({
      id: `P-${i}`,
      subscriberId: 'S0',
      identityId: identityId(1),
      billerId: bill.billerId,
      account: bill.account,
      billId: bill.billId,
      amountMinor: qirsh(bill.amountMinor),
      currency: 'SYP',
      channelId: 'wallet',
      payerAddress: '+963944000000',
      status: (['pending', 'failed', 'held', 'succeeded'] as const)[i % 4]!,
      openKey: null,
      deadlineAt: NOW,
    });
  }
}

/** What a row says, whatever database wrote it (ids of OutboxItem are per database). */
function outboxRow(r: OutboxItem) {
  return {
    kind: r.kind,
    lane: r.lane,
    dedupeKey: r.dedupeKey,
    identityId: r.identityId,
    channel: r.channel,
    payload: JSON.parse(r.payload) as unknown,
    status: r.status,
    attempts: r.attempts,
    urgent: r.urgent,
    broadcastId: r.broadcastId,
    nextAttemptAt: r.nextAttemptAt.toISOString(),
    createdAt: r.createdAt.toISOString(),
  };
}

const AUDIENCES: Array<{ audience: BroadcastAudience; channels: BroadcastChannel[] }> = [
  { audience: { all: true }, channels: ['sms', 'telegram'] },
  { audience: { all: true }, channels: ['telegram'] },
  { audience: { governorates: ['DAM'] }, channels: ['sms', 'telegram'] },
  { audience: { languages: ['en'], governorates: ['ALE', 'HOM'] }, channels: ['sms'] },
  { audience: { billers: ['water'] }, channels: ['sms', 'telegram'] },
  { audience: { billers: ['electricity'], languages: ['ar'] }, channels: ['telegram'] },
];

/** Runs the planning on a database and reports everything it wrote and answered. */
async function planEverything(t: TestStore) {
  await seed(t);
  const store = t.store;
  const refresh = await store.reminderRefreshCandidates({
    dueDates: DUE_DATES.slice(0, 3),
    checkedBefore: new Date(NOW.getTime() - HOUR),
    staleBefore: new Date(NOW.getTime() - 24 * HOUR),
    limit: 1_000,
  });
  const slots = [
    { dueDate: '2026-11-28', offset: -3 },
    { dueDate: '2026-11-25', offset: 0 },
    { dueDate: '2026-11-22', offset: 3 },
  ];
  const planned = await store.planReminders({ slots, now: NOW });
  const again = await store.planReminders({ slots, now: new Date(NOW.getTime() + HOUR) });
  const audiences = [];
  for (const [i, { audience, channels }] of AUDIENCES.entries()) {
    const groups = await store.countAudience(audience, channels);
    const id = `BC-${i}`;
    await store.createBroadcast(
      {
        id,
        text: { ar: 'انقطاع مبرمج', en: null },
        audience,
        channels,
        urgent: i % 2 === 1,
        recipients: 0,
        smsPartsPerMessage: 1,
        smsPartsTotal: 0,
        createdBy: 'test',
      },
      NOW,
    );
    let written = 0;
    for (let batch = 0; ; batch++) {
      assert.ok(batch < 1_000, 'planning never finished');
      const r = await store.planBroadcastBatch(id, 4, NOW);
      written += r.written;
      if (r.done) break;
    }
    const record = await store.getBroadcast(id);
    audiences.push({
      groups: groups.sort((a, b) =>
        `${a.channel}${a.language}`.localeCompare(`${b.channel}${b.language}`),
      ),
      written,
      status: record?.status,
      recipients: record?.recipients,
      counts: await store.broadcastCounts(id),
    });
  }
  const rows = await t.client.outboxItem.findMany();
  return {
    refresh: refresh.map((a) => `${a.billerId}:${a.account}`).sort(),
    planned,
    again,
    audiences,
    rows: rows.map(outboxRow).sort((a, b) => (a.dedupeKey ?? '').localeCompare(b.dedupeKey ?? '')),
  };
}

describe('PostgreSQL and SQLite plan the same rows', onlyPostgres, () => {
  it('reminders, refresh candidates, audiences, broadcast batches and counts', async () => {
    const sqlite = await createSqliteTestStore();
    const postgres = await createPostgresTestStore();
    try {
      const onSqlite = await planEverything(sqlite);
      const onPostgres = await planEverything(postgres);
      // The scenario is not empty: every kind of answer has something in it.
      assert.ok(onSqlite.refresh.length > 0);
      assert.ok(onSqlite.planned > 5);
      assert.equal(onSqlite.again, 0);
      assert.ok(onSqlite.audiences.every((a) => a.written > 0 && a.status === 'sending'));
      assert.ok(onSqlite.rows.some((r) => r.kind === 'reminder'));
      assert.ok(onSqlite.rows.some((r) => r.kind === 'broadcast' && r.urgent));
      assert.deepEqual(onPostgres, onSqlite);
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });
});
