/**
 * Per-subscriber limits that must hold however many requests of one subscriber run at once, on
 * however many instances: followed accounts (TASDEED_MAX_FOLLOWS). Each check and the write it
 * guards run in one transaction that first locks the subscriber's row, so that two parallel
 * requests take turns instead of both reading "one left". (A SQLite transaction holds the
 * database's write lock from its start: no lock is needed there.)
 */
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client.js';
import type { SqlDialect } from './dialect.js';

type Db = Prisma.TransactionClient;

/** Locks the subscriber's row until the transaction ends (PostgreSQL). */
export async function lockSubscriber(db: Db, d: SqlDialect, subscriberId: string): Promise<void> {
  if (!d.forUpdate) return;
  await db.$queryRawUnsafe(
    d.sql(`SELECT "id" FROM "Subscriber" WHERE "id" = ? ${d.forUpdate}`),
    subscriberId,
  );
}

/** Follows the account unless `max` are followed already; run inside a transaction. */
export async function followUpTo(
  db: Db,
  d: SqlDialect,
  follow: { subscriberId: string; billerId: string; account: string; max: number },
): Promise<'added' | 'already' | 'full'> {
  const { subscriberId, billerId, account } = follow;
  await lockSubscriber(db, d, subscriberId);
  const existing = await db.followedAccount.findUnique({
    where: { subscriberId_billerId_account: { subscriberId, billerId, account } },
    select: { id: true },
  });
  if (existing) return 'already';
  if ((await db.followedAccount.count({ where: { subscriberId } })) >= follow.max) return 'full';
  await db.followedAccount.create({ data: { id: randomUUID(), subscriberId, billerId, account } });
  return 'added';
}
