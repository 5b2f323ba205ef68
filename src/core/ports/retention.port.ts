/**
 * What the retention job (core/retention/retention.service.ts) asks of the database: delete,
 * in short batches, the rows that are only kept for a while. Payments, payment events and the
 * audit trail are records of money and are never asked for.
 */

/**
 * The kinds of rows pruned, in the order a run takes them:
 * - `telegram-updates`, `sms-inbound`: inbound messages processed before the cut-off (their
 *   keys deduplicate redeliveries, so they are kept at least as long as a sender retries);
 * - `sms-receipts`: delivery receipts recorded before the cut-off (Android events included);
 * - `outbox`: outbox rows finished (sent, done, failed, skipped, cancelled) before the cut-off,
 *   with their SMS parts; a broadcast's rows only once its counts are folded.
 */
export const PRUNED_KINDS = ['telegram-updates', 'sms-inbound', 'sms-receipts', 'outbox'] as const;
export type PrunedKind = (typeof PRUNED_KINDS)[number];

export interface PruneBatch {
  /** Rows deleted, all tables together (an outbox row's SMS parts count too). */
  deleted: number;
  /** False once nothing old enough is left of this kind; true means "call again". */
  more: boolean;
}

export interface RetentionPort {
  /**
   * Keeps on the broadcast itself the counts of broadcasts created before `before` whose rows
   * are all final, so that their rows may go and their progress still reads the same.
   * Returns how many broadcasts were folded.
   */
  foldBroadcasts(before: Date): Promise<number>;
  /**
   * Deletes, in one short transaction, at most `maxRows` rows of one kind that are older than
   * `before` (never a queued or in-flight outbox row, nor an inbound message not yet processed).
   */
  pruneBatch(kind: PrunedKind, before: Date, maxRows: number): Promise<PruneBatch>;
}
