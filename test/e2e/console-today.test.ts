/**
 * "Today at a glance" (src/db/console-queries.ts) on known rows: payments by biller and by
 * the governorate of their account, what is open now, and messages by identity channel and
 * outcome. On SQLite always, and on PostgreSQL when TEST_DATABASE_URL is set (the queries use
 * Prisma's model API only, so the same code must give the same figures on both).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConsoleQueries, type TodayReport } from '../../src/db/console-queries.js';
import { createPostgresClient, migratePostgres } from '../../src/db/postgres.js';
import { PrismaStore } from '../../src/db/prisma-store.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { createSqliteTestStore } from '../support/db.js';
import { createTestDatabase, NO_POSTGRES, TEST_DATABASE_URL } from '../support/pg.js';

const HOUR = 3_600_000;

async function seed(db: PrismaClient, since: Date): Promise<void> {
  const yesterday = new Date(since.getTime() - 24 * HOUR);
  const later = new Date(since.getTime() + HOUR);
  await db.subscriber.createMany({ data: [{ id: 'S1' }, { id: 'S2' }] });
  await db.identity.createMany({
    data: [
      { id: 'I1', subscriberId: 'S1', channel: 'sandbox-sms', address: '+963944000001' },
      { id: 'I2', subscriberId: 'S2', channel: 'telegram', address: '42' },
    ],
  });
  await db.billAccount.createMany({
    data: [
      {
        billerId: 'electricity',
        account: '1000101',
        holder: 'A',
        governorate: 'DAM',
        fetchedAt: since,
      },
      { billerId: 'water', account: '2000301', holder: 'B', governorate: 'ALE', fetchedAt: since },
    ],
  });
  const payment = (
    id: string,
    billerId: string,
    account: string,
    status: string,
    amountMinor: number,
    createdAt: Date,
  ) => ({
    id,
    subscriberId: 'S1',
    identityId: 'I1',
    billerId,
    account,
    billId: `${account}-1`,
    amountMinor,
    currency: 'SYP',
    channelId: 'syriatel-cash',
    payerAddress: '+963944000001',
    status,
    deadlineAt: later,
    createdAt,
  });
  await db.payment.createMany({
    data: [
      payment('P1', 'electricity', '1000101', 'succeeded', 10_000, later),
      payment('P2', 'electricity', '1000101', 'succeeded', 5_000, later),
      payment('P3', 'water', '2000301', 'failed', 3_000, later),
      payment('P4', 'water', '2000301', 'held', 2_000, later),
      payment('P5', 'electricity', '1009999', 'pending', 1_000, later),
      // Yesterday's: not in today's figures; the open one still counts as open now.
      payment('P6', 'electricity', '1000101', 'succeeded', 99_999, yesterday),
      payment('P7', 'telecom', '3000101', 'created', 7_000, yesterday),
    ],
  });
  const row = (
    kind: string,
    identityId: string | null,
    channel: string | null,
    status: string,
    deliveryStatus: string | null = null,
    createdAt = later,
  ) => ({
    kind,
    lane: kind === 'message' ? 'reply' : 'bulk',
    identityId,
    channel,
    payload: '{}',
    status,
    deliveryStatus,
    createdAt,
    nextAttemptAt: new Date(later.getTime() + 24 * HOUR),
  });
  await db.outboxItem.createMany({
    data: [
      row('message', 'I1', null, 'sent'),
      row('message', 'I1', null, 'sent', 'delivered'),
      row('reminder', 'I1', null, 'failed'),
      row('message', 'I1', null, 'sent', 'undelivered'),
      row('broadcast', 'I2', 'telegram', 'sent'),
      row('broadcast', 'I2', 'telegram', 'queued'),
      row('broadcast', 'I2', 'telegram', 'skipped'),
      row('message', 'gone', null, 'sent'),
      row('settlement', null, null, 'done'),
      row('message', 'I1', null, 'sent', null, yesterday),
    ],
  });
}

function checks(open: () => Promise<{ client: PrismaClient; close: () => Promise<void> }>) {
  let client: PrismaClient;
  let close: () => Promise<void>;
  let report: TodayReport;
  const since = new Date(Date.now() - HOUR);

  before(async () => {
    ({ client, close } = await open());
    await seed(client, since);
    report = await new ConsoleQueries(new PrismaStore(client)).today(since);
  });
  after(async () => {
    await close?.();
  });

  it('sums the payments started since the start of the day', () => {
    assert.deepEqual(report.totals, {
      count: 5,
      succeeded: 2,
      succeededMinor: 15_000,
      open: 1,
      held: 1,
      failed: 1,
    });
    assert.deepEqual(report.byBiller, [
      {
        billerId: 'electricity',
        count: 3,
        succeeded: 2,
        succeededMinor: 15_000,
        open: 1,
        held: 0,
        failed: 0,
      },
      { billerId: 'water', count: 2, succeeded: 0, succeededMinor: 0, open: 0, held: 1, failed: 1 },
    ]);
  });

  it('puts each payment in the governorate of its account, or unknown', () => {
    assert.deepEqual(
      report.byGovernorate.map((g) => [g.governorate, g.count, g.succeededMinor]),
      [
        [null, 1, 0],
        ['ALE', 2, 0],
        ['DAM', 2, 15_000],
      ],
    );
  });

  it('counts what is open now, oldest first', () => {
    assert.equal(report.pending.open, 2);
    assert.equal(report.pending.held, 1);
    assert.deepEqual(
      report.pending.oldest.map((p) => p.id),
      ['P7', 'P5'],
    );
  });

  it('counts messages by identity channel: sent, delivered, failed, queued, skipped', () => {
    assert.deepEqual(report.messages, [
      { channel: 'sandbox-sms', queued: 0, sent: 3, delivered: 1, failed: 2, skipped: 0 },
      { channel: 'telegram', queued: 1, sent: 1, delivered: 0, failed: 0, skipped: 1 },
      { channel: 'unknown', queued: 0, sent: 1, delivered: 0, failed: 0, skipped: 0 },
    ]);
  });
}

describe('today at a glance, on SQLite', () => {
  checks(async () => {
    const t = await createSqliteTestStore();
    return { client: t.client, close: () => t.close() };
  });
});

describe(
  'today at a glance, on PostgreSQL',
  { skip: TEST_DATABASE_URL ? false : NO_POSTGRES },
  () => {
    checks(async () => {
      const database = await createTestDatabase();
      await migratePostgres(database.url);
      const client = createPostgresClient(database.url);
      return {
        client,
        close: async () => {
          await client.$disconnect();
          await database.drop();
        },
      };
    });
  },
);
