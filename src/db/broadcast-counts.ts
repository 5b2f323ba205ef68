/**
 * A broadcast's progress (GET /admin/broadcasts/:id): counted from its recipient rows while
 * they exist, and from the counts folded onto the broadcast once the retention job is about to
 * delete them (see retention-store.ts), so that an old broadcast reads the same afterwards.
 */
import type { BroadcastCounts } from '../core/ports/store.port.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { SqlDialect } from './dialect.js';

type Db = Prisma.TransactionClient;

const STATES = ['queued', 'sent', 'delivered', 'failed', 'skipped', 'cancelled'] as const;

function zero(): BroadcastCounts {
  return { queued: 0, sent: 0, delivered: 0, failed: 0, skipped: 0, cancelled: 0 };
}

/** The counts folded onto a broadcast, or null when its rows are still the source. */
export function parseFoldedCounts(text: string | null): BroadcastCounts | null {
  if (text === null) return null;
  const value = JSON.parse(text) as Partial<Record<string, unknown>>;
  const counts = zero();
  for (const state of STATES) {
    const n = value[state];
    counts[state] = typeof n === 'number' && Number.isSafeInteger(n) ? n : 0;
  }
  return counts;
}

/** The broadcast's counts: folded ones when kept, else counted from its rows. */
export async function broadcastCounts(db: Db, d: SqlDialect, id: string): Promise<BroadcastCounts> {
  const row = await db.broadcast.findUnique({ where: { id }, select: { foldedCounts: true } });
  return parseFoldedCounts(row?.foldedCounts ?? null) ?? countRows(db, d, id);
}

/** Counts the broadcast's recipient rows by state (one grouped range of an index). */
export async function countRows(db: Db, d: SqlDialect, id: string): Promise<BroadcastCounts> {
  const rows = await db.$queryRawUnsafe<
    Array<{ status: string; delivered: string | null; count: number | bigint }>
  >(
    d.sql(`SELECT "status", CASE WHEN "deliveryStatus" = 'delivered' THEN 'delivered' END AS "delivered",
       COUNT(*) AS "count"
     FROM "OutboxItem" WHERE "broadcastId" = ? GROUP BY 1, 2`),
    id,
  );
  const counts = zero();
  for (const r of rows) {
    const n = Number(r.count);
    if (r.status === 'queued' || r.status === 'leased') counts.queued += n;
    else if (r.status === 'sent' || r.status === 'done') counts.sent += n;
    else if (r.status === 'failed') counts.failed += n;
    else if (r.status === 'skipped') counts.skipped += n;
    else if (r.status === 'cancelled') counts.cancelled += n;
    if (r.delivered) counts.delivered += n;
  }
  return counts;
}
