/**
 * Per-subscriber limits that must hold however many requests of one subscriber run at once, on
 * however many instances: followed accounts (TASDEED_MAX_FOLLOWS), open payments and payment
 * starts (TASDEED_MAX_OPEN_PAYMENTS, TASDEED_PAYMENT_STARTS_PER_HOUR). Each check and the write
 * it guards run in one transaction that first locks the subscriber's row, so that two parallel
 * requests take turns instead of both reading "one left". (A SQLite transaction holds the
 * database's write lock from its start: no lock is needed there.)
 */
import { randomUUID } from 'node:crypto';
import type { PaymentQuotaUsage } from '../core/ports/store.port.js';
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

/** Payment statuses that hold a bill (docs/design.md §6): the open payments a subscriber may have. */
const OPEN_STATUSES = ['created', 'pending', 'held'];

/**
 * What the subscriber and the payer number have used of the payment limits; run inside the
 * transaction that creates the payment. The payer number is locked by key (several
 * subscribers may pay from it), always after the subscriber's row, so no two wait in a circle.
 * The number's verified owner is not counted against it, nor checked (nor locked for): a
 * stranger typing someone's number must not lock its owner out.
 */
export async function paymentQuota(
  db: Db,
  d: SqlDialect,
  query: {
    subscriberId: string;
    payerAddress: string;
    payerVerified: boolean;
    since: Date;
    maxStarts: number;
  },
): Promise<PaymentQuotaUsage> {
  const { subscriberId, payerAddress, payerVerified, since, maxStarts } = query;
  await lockSubscriber(db, d, subscriberId);
  if (d.lockKey && !payerVerified)
    await db.$executeRawUnsafe(d.sql(d.lockKey), `payer:${payerAddress}`);
  const fullSince = async (where: Prisma.PaymentWhereInput): Promise<Date | null> => {
    const row = await db.payment.findFirst({
      where: { ...where, createdAt: { gt: since } },
      orderBy: { createdAt: 'desc' },
      skip: Math.max(0, maxStarts - 1),
      select: { createdAt: true },
    });
    return row?.createdAt ?? null;
  };
  return {
    openPayments: await db.payment.count({
      where: { subscriberId, status: { in: OPEN_STATUSES } },
    }),
    subscriberFullSince: await fullSince({ subscriberId }),
    payerFullSince: payerVerified ? null : await fullSince({ payerAddress, payerVerified: false }),
  };
}
