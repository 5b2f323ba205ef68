/**
 * Retention (TASDEED_RETENTION_DAYS) on the test database (SQLite, or PostgreSQL when
 * TEST_DATABASE_URL is set): what a daily run deletes and what it keeps, at most 1,000 rows per
 * transaction, each batch found through an index, and broadcasts that read the same afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RetentionService } from '../../src/core/retention/retention.service.js';
import { PRUNED_KINDS, type PrunedKind } from '../../src/core/ports/retention.port.js';
import { candidatesSql, RetentionStore } from '../../src/db/retention-store.js';
import { FakeClock } from '../support/harness.js';
import { createTestStore, type TestStore } from '../support/db.js';

const DAY = 86_400_000;
const NOW = new Date('2027-06-01T09:00:00.000Z');
/** Older than the 180-day retention. */
const OLD = new Date(NOW.getTime() - 200 * DAY);
/** Within it. */
const RECENT = new Date(NOW.getTime() - 10 * DAY);
const CUTOFF = new Date(NOW.getTime() - 180 * DAY);

let db: TestStore;
before(async () => {
  db = await createTestStore();
});
after(async () => {
  await db.close();
});

function retention(clock: FakeClock, store = db.store): RetentionService {
  return new RetentionService(store, new RetentionStore(store), clock, {
    days: 180,
    timezone: 'Asia/Damascus',
    owner: 'test',
  });
}

type OutboxSeed = {
  status: string;
  doneAt?: Date | null;
  kind?: string;
  broadcastId?: string;
  deliveryStatus?: string;
  parts?: number;
  dedupeKey?: string;
};

/** Writes an outbox row as it stands after its life so far; returns its id. */
async function outboxRow(seed: OutboxSeed): Promise<number> {
  const row = await db.client.outboxItem.create({
    data: {
      kind: seed.kind ?? (seed.broadcastId ? 'broadcast' : 'message'),
      lane: seed.broadcastId ? 'bulk' : 'reply',
      payload: '{"key":"help"}',
      status: seed.status,
      doneAt: seed.doneAt ?? null,
      broadcastId: seed.broadcastId ?? null,
      deliveryStatus: seed.deliveryStatus ?? null,
      createdAt: seed.doneAt ?? OLD,
      nextAttemptAt: OLD,
      ...(seed.dedupeKey ? { dedupeKey: seed.dedupeKey } : {}),
    },
  });
  for (let part = 0; part < (seed.parts ?? 0); part++) {
    await db.client.smsPart.create({
      data: { outboxItemId: row.id, part, providerMessageId: `SM${row.id}-${part}` },
    });
  }
  return row.id;
}

async function broadcast(id: string, status: string, createdAt: Date): Promise<void> {
  await db.client.broadcast.create({
    data: {
      id,
      textAr: 'انقطاع',
      audience: '{"all":true}',
      channels: '["sms"]',
      status,
      createdBy: 'test',
      createdAt,
      updatedAt: createdAt,
      ...(status === 'done' ? { finishedAt: createdAt } : {}),
    },
  });
}

async function outboxIds(): Promise<number[]> {
  const rows = await db.client.outboxItem.findMany({
    select: { id: true },
    orderBy: { id: 'asc' },
  });
  return rows.map((r) => r.id);
}

describe('retention: a daily run', () => {
  it('deletes old processed rows; keeps recent, unprocessed and queued ones, and money records', async () => {
    // Inbound Telegram updates and SMS: processed long ago, processed lately, never processed.
    await db.client.telegramUpdate.createMany({
      data: [
        { updateId: 1, payload: '{}', receivedAt: OLD, processedAt: OLD },
        { updateId: 2, payload: '{}', receivedAt: RECENT, processedAt: RECENT },
        { updateId: 3, payload: '{}', receivedAt: OLD, processedAt: null },
      ],
    });
    const sms = (key: string, recordedAt: Date, processedAt: Date | null) => ({
      gateway: 'android',
      dedupeKey: `android:${key}`,
      fromAddress: '+963944000001',
      text: 'فاتورة',
      recordedAt,
      processedAt,
    });
    await db.client.smsInbound.createMany({
      data: [sms('old', OLD, OLD), sms('recent', RECENT, RECENT), sms('pending', OLD, null)],
    });
    const receipt = (key: string, recordedAt: Date) => ({
      dedupeKey: `android:${key}`,
      gateway: 'android',
      providerMessageId: `m-${key}`,
      state: 'delivered',
      recordedAt,
    });
    await db.client.smsStatusEvent.createMany({
      data: [receipt('old', OLD), receipt('recent', RECENT)],
    });

    // The outbox: finished rows of every kind, and rows still to send whatever their age.
    const gone = [
      await outboxRow({ status: 'sent', doneAt: OLD, parts: 2 }),
      await outboxRow({ status: 'failed', doneAt: OLD }),
      await outboxRow({ status: 'skipped', doneAt: OLD }),
      await outboxRow({ status: 'cancelled', doneAt: OLD }),
      await outboxRow({ status: 'done', doneAt: OLD, kind: 'settlement' }),
    ];
    const kept = [
      // Sent once, then put back in the queue by a receipt's temporary failure.
      await outboxRow({ status: 'queued', doneAt: OLD }),
      await outboxRow({ status: 'queued' }),
      await outboxRow({ status: 'leased', doneAt: OLD }),
      await outboxRow({ status: 'sent', doneAt: RECENT, parts: 1 }),
    ];

    // Broadcasts: one old and finished (folded, then its rows go), one old with a row still
    // queued (its rows stay), one recent.
    await broadcast('B-old', 'done', OLD);
    const oldRows = [
      await outboxRow({
        status: 'sent',
        doneAt: OLD,
        broadcastId: 'B-old',
        deliveryStatus: 'delivered',
      }),
      await outboxRow({ status: 'sent', doneAt: OLD, broadcastId: 'B-old', parts: 2 }),
      await outboxRow({ status: 'failed', doneAt: OLD, broadcastId: 'B-old' }),
      await outboxRow({ status: 'skipped', doneAt: OLD, broadcastId: 'B-old' }),
      await outboxRow({ status: 'cancelled', doneAt: OLD, broadcastId: 'B-old' }),
    ];
    await broadcast('B-stuck', 'sending', OLD);
    kept.push(
      await outboxRow({ status: 'sent', doneAt: OLD, broadcastId: 'B-stuck' }),
      await outboxRow({ status: 'queued', broadcastId: 'B-stuck' }),
    );
    await broadcast('B-recent', 'done', RECENT);
    kept.push(await outboxRow({ status: 'sent', doneAt: RECENT, broadcastId: 'B-recent' }));
    const countsBefore = await Promise.all(
      ['B-old', 'B-stuck', 'B-recent'].map((id) => db.store.broadcastCounts(id)),
    );
    assert.deepEqual(countsBefore[0], {
      queued: 0,
      sent: 2,
      delivered: 1,
      failed: 1,
      skipped: 1,
      cancelled: 1,
    });

    // Records of money, however old: a payment, its event, the audit trail.
    await db.client.payment.create({
      data: {
        id: 'P-OLD0000001',
        subscriberId: 's',
        identityId: 'i',
        billerId: 'electricity',
        account: '1000101',
        billId: 'b1',
        amountMinor: 18_750,
        currency: 'SYP',
        channelId: 'wallet',
        payerAddress: '+963944000001',
        status: 'succeeded',
        deadlineAt: OLD,
        createdAt: OLD,
        updatedAt: OLD,
      },
    });
    await db.client.paymentEvent.create({
      data: {
        id: 'E-1',
        channelId: 'wallet',
        eventId: 'evt-1',
        paymentId: 'P-OLD0000001',
        source: 'webhook',
        status: 'succeeded',
        receivedAt: OLD,
        outcome: 'applied',
      },
    });
    await db.client.auditLog.create({
      data: {
        at: OLD,
        actor: 'channel:wallet',
        entity: 'payment',
        entityId: 'P-OLD0000001',
        action: 'transition',
      },
    });

    const clock = new FakeClock(NOW);
    const result = await retention(clock).tick();
    assert.equal(result.status, 'done');
    assert.ok(result.status === 'done');
    assert.equal(result.foldedBroadcasts, 1, 'B-old folded, B-stuck not (a row is queued)');
    assert.deepEqual(result.deleted, {
      'telegram-updates': 1,
      'sms-inbound': 1,
      'sms-receipts': 1,
      outbox: gone.length + 2 + oldRows.length + 2,
    });

    const updates = await db.client.telegramUpdate.findMany({ orderBy: { updateId: 'asc' } });
    assert.deepEqual(
      updates.map((u) => u.updateId),
      [2, 3],
    );
    const inbound = await db.client.smsInbound.findMany({ orderBy: { id: 'asc' } });
    assert.deepEqual(
      inbound.map((s) => s.dedupeKey),
      ['android:recent', 'android:pending'],
    );
    const receipts = await db.client.smsStatusEvent.findMany();
    assert.deepEqual(
      receipts.map((r) => r.dedupeKey),
      ['android:recent'],
    );
    assert.deepEqual(
      await outboxIds(),
      kept.sort((a, b) => a - b),
    );
    const parts = await db.client.smsPart.findMany();
    assert.deepEqual(
      parts.map((p) => p.outboxItemId),
      [kept[3]],
      'only the parts of the recent message are left',
    );

    // GET /admin/broadcasts/:id counts the same as before.
    const countsAfter = await Promise.all(
      ['B-old', 'B-stuck', 'B-recent'].map((id) => db.store.broadcastCounts(id)),
    );
    assert.deepEqual(countsAfter, countsBefore);

    assert.equal(await db.client.payment.count(), 1);
    assert.equal(await db.client.paymentEvent.count(), 1);
    assert.equal(await db.client.auditLog.count({ where: { entityId: 'P-OLD0000001' } }), 1);

    // Once a day: a second tick the same local day does nothing.
    clock.advance(3_600_000);
    assert.deepEqual(await retention(clock).tick(), { status: 'taken', slot: '2027-06-01' });
  });
});

describe('retention: batches', () => {
  it('deletes at most 1,000 rows per transaction, an outbox row and its SMS parts together', async () => {
    await db.client.smsInbound.createMany({
      data: Array.from({ length: 2_500 }, (_, i) => ({
        gateway: 'twilio',
        dedupeKey: `twilio:SMbatch${i}`,
        fromAddress: '+963944000002',
        text: 'HELP',
        recordedAt: OLD,
        processedAt: OLD,
      })),
    });
    const rows = new RetentionStore(db.store);
    const inboundLeft = () =>
      db.client.smsInbound.count({ where: { dedupeKey: { startsWith: 'twilio:SMbatch' } } });
    assert.deepEqual(await rows.pruneBatch('sms-inbound', CUTOFF, 1_000), {
      deleted: 1_000,
      more: true,
    });
    assert.equal(await inboundLeft(), 1_500);
    assert.deepEqual(await rows.pruneBatch('sms-inbound', CUTOFF, 1_000), {
      deleted: 1_000,
      more: true,
    });
    assert.deepEqual(await rows.pruneBatch('sms-inbound', CUTOFF, 1_000), {
      deleted: 500,
      more: false,
    });
    assert.equal(await inboundLeft(), 0);

    // 600 messages sent as 2 SMS each: 1,800 rows.
    const before = await db.client.outboxItem.count();
    await db.client.outboxItem.createMany({
      data: Array.from({ length: 600 }, (_, i) => ({
        kind: 'message',
        lane: 'reply',
        dedupeKey: `batch:${i}`,
        payload: '{}',
        status: 'sent',
        createdAt: OLD,
        doneAt: OLD,
        nextAttemptAt: OLD,
      })),
    });
    const ids = await db.client.outboxItem.findMany({
      where: { dedupeKey: { startsWith: 'batch:' } },
      select: { id: true },
    });
    await db.client.smsPart.createMany({
      data: ids.flatMap(({ id }) => [0, 1].map((part) => ({ outboxItemId: id, part }))),
    });
    const total = async () =>
      (await db.client.outboxItem.count()) + (await db.client.smsPart.count());
    let left = await total();
    let batches = 0;
    for (let more = true; more; batches++) {
      const batch = await rows.pruneBatch('outbox', CUTOFF, 1_000);
      const now = await total();
      assert.equal(left - now, batch.deleted, 'the batch says what it deleted');
      assert.ok(batch.deleted <= 1_000, `${batch.deleted} rows in one transaction`);
      assert.equal(batch.deleted % 3, 0, 'whole messages: a row with its two parts');
      left = now;
      more = batch.more;
    }
    assert.equal(batches, 2, '999 rows, then 801');
    assert.equal(await db.client.outboxItem.count(), before);
  });

  it('finds each batch through an index (EXPLAIN), never by scanning the table', async () => {
    for (const kind of PRUNED_KINDS as readonly PrunedKind[]) {
      const sql = candidatesSql(db.store.dialect, kind);
      const params = [db.store.dialect.time(CUTOFF), 1_000];
      if (db.dialect === 'sqlite') {
        const plan = await db.client.$queryRawUnsafe<Array<{ detail: string }>>(
          `EXPLAIN QUERY PLAN ${sql}`,
          ...params,
        );
        const details = plan.map((p) => p.detail);
        assert.ok(
          details.some((d) => /^SEARCH .* USING (COVERING )?INDEX /.test(d)),
          `${kind}: ${details.join(' | ')}`,
        );
        assert.ok(!details.some((d) => /^SCAN /.test(d)), `${kind}: ${details.join(' | ')}`);
      } else {
        // Tables this small are cheaper to scan: with scans priced out, a plan without one
        // shows that an index serves the query.
        const plan = await db.client.$transaction(async (tx) => {
          await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
          return tx.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(`EXPLAIN ${sql}`, ...params);
        });
        const text = plan.map((p) => p['QUERY PLAN']).join('\n');
        assert.match(text, /Index (Only )?Scan/, `${kind}:\n${text}`);
        assert.doesNotMatch(text, /Seq Scan/, `${kind}:\n${text}`);
      }
    }
  });
});
