/**
 * The SMS reply cap and the auto-responder loop check read a sender's last hour of replies in
 * one statement per inbound message (see Store.recentReplies): a range of the outbox's
 * ("identityId", "createdAt") index, at most SMS_REPLIES_PER_HOUR rows and the loop's marks,
 * counted by a window function while the newest few come back whole.
 */
import type { RecentReplies } from '../core/ports/store.port.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { SqlDialect } from './dialect.js';

type Db = Prisma.TransactionClient;

export async function recentReplies(
  db: Db,
  d: SqlDialect,
  query: {
    identityId: string;
    since: Date;
    dedupeKeyPrefix: string;
    withheld: string;
    latest: number;
  },
): Promise<RecentReplies> {
  const withheld = `("status" = 'skipped' AND "lastError" = ?)`;
  const rows = await db.$queryRawUnsafe<
    Array<{
      createdAt: Date | number | string;
      payload: string;
      withheld: number | boolean | bigint;
      answered: number | bigint | string;
    }>
  >(
    d.sql(`SELECT "createdAt", "payload", CASE WHEN ${withheld} THEN 1 ELSE 0 END AS "withheld",
        SUM(CASE WHEN ${withheld} THEN 0 ELSE 1 END) OVER () AS "answered"
      FROM "OutboxItem"
      WHERE "identityId" = ? AND "createdAt" > ${d.timeParam} AND "dedupeKey" LIKE ? ESCAPE '\\'
      ORDER BY "createdAt" DESC, "id" DESC
      LIMIT CAST(? AS INTEGER)`),
    query.withheld,
    query.withheld,
    query.identityId,
    d.time(query.since),
    `${query.dedupeKeyPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
    Math.max(1, query.latest),
  );
  return {
    answered: Number(rows[0]?.answered ?? 0),
    latest: rows.slice(0, query.latest).map((r) => ({
      at: r.createdAt instanceof Date ? r.createdAt : new Date(r.createdAt),
      payload: JSON.parse(r.payload) as unknown,
      withheld: Number(r.withheld) === 1,
    })),
  };
}
