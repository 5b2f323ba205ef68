/**
 * The retention job's SQL (see core/retention/retention.service.ts), on SQLite and PostgreSQL.
 *
 * Every batch is one short transaction that deletes at most `maxRows` rows, found through an
 * index on the row's age (0014_retention.sql): processed inbound rows by "processedAt", delivery
 * receipts by "recordedAt", finished outbox rows by "doneAt". On PostgreSQL the rows a batch
 * takes are locked with SKIP LOCKED, so a batch never waits for (nor makes wait) a dispatcher or
 * a receipt holding one of them; the rest is left for the next batch or the next day.
 */
import type { BroadcastCounts } from '../core/ports/store.port.js';
import type { PruneBatch, PrunedKind, RetentionPort } from '../core/ports/retention.port.js';
import type { Prisma } from '../generated/prisma/client.js';
import { countRows } from './broadcast-counts.js';
import type { SqlDialect } from './dialect.js';

type Db = Prisma.TransactionClient;

/** What the retention store needs of PrismaStore. */
export interface WritableStore {
  write<T>(fn: (db: Db, dialect: SqlDialect) => Promise<T>): Promise<T>;
}

/** Outbox states after which nothing more happens to a row (queued and leased are not). */
const FINISHED = `('sent', 'done', 'failed', 'skipped', 'cancelled')`;

/** Inbound rows and receipts: one table each, deleted by key. */
const SINGLE_TABLE: Record<
  Exclude<PrunedKind, 'outbox'>,
  { table: string; keyColumn: string; age: string }
> = {
  // "processedAt" is null until processed: `<` never takes a row still to act on.
  'telegram-updates': { table: 'TelegramUpdate', keyColumn: 'updateId', age: 'processedAt' },
  'sms-inbound': { table: 'SmsInbound', keyColumn: 'id', age: 'processedAt' },
  'sms-receipts': { table: 'SmsStatusEvent', keyColumn: 'dedupeKey', age: 'recordedAt' },
};

/** PostgreSQL: take the rows no one else holds, without waiting. */
function skipLocked(d: SqlDialect, table?: string): string {
  return d.name === 'postgresql' ? `FOR UPDATE${table ? ` OF ${table}` : ''} SKIP LOCKED` : '';
}

/**
 * The rows of one kind a batch takes (parameters: the cut-off, the limit). Exported for the
 * test that checks with EXPLAIN that it is a range of an index, not a scan of the table.
 */
export function candidatesSql(d: SqlDialect, kind: PrunedKind): string {
  return d.sql(candidates(d, kind));
}

/** {@link candidatesSql} with `?` placeholders. */
function candidates(d: SqlDialect, kind: PrunedKind): string {
  if (kind === 'outbox') {
    // A broadcast's rows are its progress counts: they go only once the counts are folded.
    return `SELECT o."id" AS "id",
        (SELECT COUNT(*) FROM "SmsPart" p WHERE p."outboxItemId" = o."id") AS "parts"
      FROM "OutboxItem" o
      WHERE o."doneAt" < ${d.timeParam} AND o."status" IN ${FINISHED}
        AND (o."broadcastId" IS NULL OR EXISTS (
          SELECT 1 FROM "Broadcast" b WHERE b."id" = o."broadcastId" AND b."foldedCounts" IS NOT NULL))
      LIMIT CAST(? AS INTEGER) ${skipLocked(d, 'o')}`;
  }
  const { table, keyColumn: key, age } = SINGLE_TABLE[kind];
  return `SELECT "${key}" FROM "${table}" WHERE "${age}" < ${d.timeParam}
    LIMIT CAST(? AS INTEGER) ${skipLocked(d)}`;
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

export class RetentionStore implements RetentionPort {
  constructor(private readonly store: WritableStore) {}

  async foldBroadcasts(before: Date): Promise<number> {
    const candidates = await this.store.write((db) =>
      db.broadcast.findMany({
        where: {
          foldedCounts: null,
          createdAt: { lt: before },
          status: { in: ['sending', 'done', 'cancelled'] },
        },
        select: { id: true },
      }),
    );
    let folded = 0;
    for (const { id } of candidates) {
      const done = await this.store.write(async (db, d) => {
        const counts: BroadcastCounts = await countRows(db, d, id);
        // A row still to send changes the counts: the rows stay and count as they are.
        if (counts.queued > 0) return false;
        const { count } = await db.broadcast.updateMany({
          where: { id, foldedCounts: null },
          data: { foldedCounts: JSON.stringify(counts) },
        });
        return count > 0;
      });
      if (done) folded++;
    }
    return folded;
  }

  pruneBatch(kind: PrunedKind, before: Date, maxRows: number): Promise<PruneBatch> {
    return kind === 'outbox'
      ? this.pruneOutbox(before, maxRows)
      : this.pruneSingle(kind, before, maxRows);
  }

  private pruneSingle(
    kind: Exclude<PrunedKind, 'outbox'>,
    before: Date,
    maxRows: number,
  ): Promise<PruneBatch> {
    const { table, keyColumn: key } = SINGLE_TABLE[kind];
    return this.store.write(async (db, d) => {
      const deleted = await db.$executeRawUnsafe(
        d.sql(`DELETE FROM "${table}" WHERE "${key}" IN (${candidates(d, kind)})`),
        d.time(before),
        maxRows,
      );
      return { deleted, more: deleted >= maxRows };
    });
  }

  /**
   * Finished outbox rows with their SMS parts, as many whole rows as fit in `maxRows` rows in
   * all (a row counts one, plus one per part).
   */
  private pruneOutbox(before: Date, maxRows: number): Promise<PruneBatch> {
    return this.store.write(async (db, d) => {
      const found = await db.$queryRawUnsafe<Array<{ id: number; parts: number | bigint }>>(
        candidatesSql(d, 'outbox'),
        d.time(before),
        maxRows,
      );
      const ids: number[] = [];
      let rows = 0;
      for (const row of found) {
        const size = 1 + Number(row.parts);
        // The first row always goes (no SMS has anywhere near maxRows parts): a batch progresses.
        if (ids.length > 0 && rows + size > maxRows) break;
        ids.push(row.id);
        rows += size;
      }
      if (ids.length === 0) return { deleted: 0, more: false };
      const list = placeholders(ids.length);
      const parts = await db.$executeRawUnsafe(
        d.sql(`DELETE FROM "SmsPart" WHERE "outboxItemId" IN (${list})`),
        ...ids,
      );
      const items = await db.$executeRawUnsafe(
        d.sql(`DELETE FROM "OutboxItem" WHERE "id" IN (${list})`),
        ...ids,
      );
      return { deleted: parts + items, more: found.length >= maxRows || ids.length < found.length };
    });
  }
}
