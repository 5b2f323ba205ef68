/**
 * The conversation's pending state (src/core/conversation/pending.ts), replaced only if it is
 * still what the caller read: the page a MORE gives is claimed by replacing the paging state
 * it was read from, so that two MOREs at once cannot both give the same page. One statement
 * (an UPDATE with the old value in its WHERE): the second waits for the first's row lock on
 * PostgreSQL, then finds the value changed and updates nothing.
 */
import type { Prisma } from '../generated/prisma/client.js';

export async function replacePending(
  db: Prisma.TransactionClient,
  subscriberId: string,
  change: { from: string | null; to: string | null; at: Date | null },
): Promise<boolean> {
  const { count } = await db.subscriber.updateMany({
    where: { id: subscriberId, pending: change.from },
    data: { pending: change.to, pendingAt: change.at },
  });
  return count === 1;
}
