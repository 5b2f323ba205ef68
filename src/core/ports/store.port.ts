/**
 * The core's view of its data. src/db implements it over Prisma (SQLite today); another
 * database is another implementation, and nothing in the core changes.
 */
import type { IdentityChannel, Language } from '../domain.js';
import type { BulkReach } from './bulk-reach.js';
import type {
  AccountSnapshot,
  AudienceGroup,
  AuditEntry,
  AuditRecord,
  BillRecord,
  BroadcastAudience,
  BroadcastChannel,
  BroadcastCounts,
  BroadcastRecord,
  BroadcastStatus,
  CoverageRecord,
  FollowRecord,
  IdentityRecord,
  NewBroadcast,
  NewOutboxItem,
  NewPayment,
  NewSmsInbound,
  OutboxClaimFilter,
  OutboxItemRecord,
  OutboxOutcome,
  PaymentEventRecord,
  PaymentPatch,
  PaymentQuotaUsage,
  PaymentRecord,
  PaymentStatus,
  RecentReplies,
  SentPart,
  SentPartRecord,
  SmsInboundRecord,
  SmsStatusEventRecord,
  SubscriberRecord,
  TelegramUpdateRecord,
  WatchKind,
  WatchRecord,
} from './store-records.js';

export * from './store-records.js';

/** Operations on the data; every method is one statement or one consistent read. */
export interface Store {
  /** Runs fn in one transaction; everything fn does through `tx` commits or rolls back together. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** A cheap query that proves the database answers (readiness). */
  ping(): Promise<void>;

  // Subscribers and identities
  findIdentity(channel: IdentityChannel, address: string): Promise<IdentityRecord | null>;
  getIdentity(id: string): Promise<IdentityRecord | null>;
  /** Creates a subscriber with this identity, or returns the existing identity if one raced in. */
  ensureIdentity(
    channel: IdentityChannel,
    address: string,
    language: Language,
  ): Promise<{ identity: IdentityRecord; created: boolean }>;
  getSubscriber(id: string): Promise<SubscriberRecord | null>;
  updateSubscriber(
    id: string,
    patch: Partial<Omit<SubscriberRecord, 'id'>>,
  ): Promise<SubscriberRecord>;
  /**
   * Sets the subscriber's pending state (and pendingAt) only if it is still `from`; false when
   * it was not (another message changed it meanwhile), and then nothing is written.
   */
  replacePending(
    subscriberId: string,
    change: { from: string | null; to: string | null; at: Date | null },
  ): Promise<boolean>;
  setOptedOut(identityId: string, optedOut: boolean, at: Date): Promise<void>;
  identitiesOf(subscriberId: string): Promise<IdentityRecord[]>;

  // Followed accounts
  /**
   * Follows the account unless the subscriber already follows `max` accounts ('full'; nothing
   * written); 'already' when it was followed. The count and the insert are one step, however
   * many requests of the subscriber run at once.
   */
  followUpTo(
    subscriberId: string,
    billerId: string,
    account: string,
    max: number,
  ): Promise<'added' | 'already' | 'full'>;
  unfollow(subscriberId: string, billerId: string, account: string): Promise<boolean>;
  followsOf(subscriberId: string): Promise<FollowRecord[]>;

  // Bill cache
  saveAccountSnapshot(snapshot: AccountSnapshot): Promise<void>;
  getAccountSnapshot(billerId: string, account: string): Promise<AccountSnapshot | null>;
  markBillPaid(billerId: string, billId: string): Promise<void>;

  // Coverage
  /** Inserts the rows the database does not have yet; existing rows (staff edits) stay. */
  seedCoverage(rows: Array<Omit<CoverageRecord, 'updatedAt' | 'updatedBy'>>): Promise<number>;
  getCoverage(billerId: string, governorate: string): Promise<CoverageRecord | null>;
  listCoverage(): Promise<CoverageRecord[]>;
  setCoverage(billerId: string, governorate: string, available: boolean, by: string): Promise<void>;

  // Payments
  /** Inserts the payment unless another open payment holds the same openKey; returns the holder. */
  createPayment(payment: NewPayment): Promise<{ payment: PaymentRecord; created: boolean }>;
  /**
   * Inside the transaction that creates a payment, before it does: takes turns with every other
   * such transaction of the subscriber or of the payer number (until it ends), then tells what
   * they have used, so that a check and the insert it allows are one step.
   */
  paymentQuota(query: {
    subscriberId: string;
    payerAddress: string;
    /** The starter is the payer number's verified owner: the number's count does not apply. */
    payerVerified: boolean;
    since: Date;
    maxStarts: number;
  }): Promise<PaymentQuotaUsage>;
  getPayment(id: string): Promise<PaymentRecord | null>;
  findPaymentByOpenKey(openKey: string): Promise<PaymentRecord | null>;
  /** Updates only if the payment is still in `expectedStatus`; returns null when it was not. */
  updatePayment(
    id: string,
    expectedStatus: PaymentStatus,
    patch: PaymentPatch,
  ): Promise<PaymentRecord | null>;
  /** Payments still open (created or pending) whose next reconciliation time has come. */
  paymentsToReconcile(now: Date, limit: number): Promise<PaymentRecord[]>;
  listPayments(filter: { status?: PaymentStatus }): Promise<PaymentRecord[]>;
  /** Payments with a succeeded settlement-free status for a bill (paid through us). */
  succeededPaymentForBill(billerId: string, billId: string): Promise<PaymentRecord | null>;
  /** Records an event; false when (channelId, eventId) was seen before. */
  recordPaymentEvent(event: PaymentEventRecord): Promise<boolean>;
  paymentEvents(paymentId: string): Promise<PaymentEventRecord[]>;

  // Audit
  audit(entry: AuditEntry): Promise<void>;
  auditTrail(entity: string, entityId: string): Promise<AuditRecord[]>;

  // Outbox
  /** Writes the item; returns null when an item with the same dedupeKey exists. */
  enqueue(item: NewOutboxItem): Promise<OutboxItemRecord | null>;
  /**
   * Leases up to `limit` items that are due (queued, or leased with an expired lease) in lane
   * order, then id order.
   */
  claimOutbox(
    owner: string,
    now: Date,
    leaseMs: number,
    limit: number,
    filter?: OutboxClaimFilter,
  ): Promise<OutboxItemRecord[]>;
  /**
   * Records the outcome of a leased item; ignored if `owner` no longer holds the lease. A
   * message's receipts that came before it was recorded are applied then, as recordSmsStatus
   * does (a sent item may go straight back to the queue).
   */
  finishOutbox(id: number, owner: string, outcome: OutboxOutcome, now: Date): Promise<boolean>;
  /**
   * Moves the lease of items `owner` still holds to `until` (work that is taking a while, such
   * as waiting for a rate gate, keeps its lease); returns how many were renewed.
   */
  renewOutboxLeases(owner: string, ids: readonly number[], until: Date): Promise<number>;
  getOutboxItem(id: number): Promise<OutboxItemRecord | null>;
  /** The earliest time an item the filter allows becomes due (attempt or lease expiry). */
  nextOutboxDue(filter?: OutboxClaimFilter): Promise<Date | null>;
  /**
   * In one statement, an identity's rows created after `since` whose dedupeKey starts with
   * `dedupeKeyPrefix` (e.g. the SMS replies): how many there are, those withheld left out (rows
   * written as skipped with `withheld` as their error), and the newest `latest` of them.
   */
  recentReplies(query: {
    identityId: string;
    since: Date;
    dedupeKeyPrefix: string;
    withheld: string;
    latest: number;
  }): Promise<RecentReplies>;
  /** Messages already delivered to an identity, after the given id (the sandbox inbox). */
  sentMessages(identityId: string, afterId: number, limit: number): Promise<OutboxItemRecord[]>;

  // Watches
  addWatch(watch: Omit<WatchRecord, 'id'>): Promise<boolean>;
  /** Deletes and returns the watches for a target (each is served once). */
  takeWatches(kind: WatchKind, target: string): Promise<WatchRecord[]>;
  hasWatches(kind: WatchKind, target: string): Promise<boolean>;
  /** Every target somebody is waiting on (for the recovery probe). */
  watchTargets(kind: WatchKind): Promise<string[]>;

  // Instances (several processes on one database)
  /**
   * Records that `instanceId` is alive at `now`, forgets instances not seen since
   * `staleBefore` (putting the outbox items they held back in the queue: they died), and
   * returns how many are alive (this one included).
   */
  heartbeat(instanceId: string, now: Date, staleBefore: Date): Promise<number>;
  /** This instance stops: it no longer counts. */
  leaveFleet(instanceId: string): Promise<void>;

  // Scheduled jobs
  /**
   * Takes the run of `job` for `slot`; false when it is taken (finished, or started by a run
   * that has not gone stale: a run older than `staleMs` without finishing is taken over).
   */
  claimJobRun(
    job: string,
    slot: string,
    owner: string,
    now: Date,
    staleMs: number,
  ): Promise<boolean>;
  finishJobRun(job: string, slot: string, owner: string, now: Date, result: unknown): Promise<void>;

  // Reminders
  /**
   * Followed accounts (of subscribers with reminders on) to ask the biller about before
   * planning: those with an unpaid bill due on one of `dueDates` last fetched before
   * `checkedBefore`, and those not fetched since `staleBefore` (or never).
   */
  reminderRefreshCandidates(query: {
    dueDates: string[];
    checkedBefore: Date;
    staleBefore: Date;
    limit: number;
  }): Promise<Array<{ billerId: string; account: string }>>;
  /**
   * Writes one reminder row (kind 'reminder', lane bulk) per unpaid bill due on one of the
   * dates, per follower with reminders on, to their preferred reachable identity, keyed
   * `rem:<billerId>:<billId>:<offset>:<subscriberId>` so that planning again writes nothing.
   * Bills with an open or succeeded payment through us are left out. Returns rows written.
   */
  planReminders(
    plan: { slots: Array<{ dueDate: string; offset: number }>; now: Date },
    reach?: BulkReach,
  ): Promise<number>;
  /** The cached bill, or null. */
  getBill(billerId: string, billId: string): Promise<BillRecord | null>;
  /** A payment through us that is open (created/pending/held) or succeeded for the bill. */
  activePaymentForBill(billerId: string, billId: string): Promise<PaymentRecord | null>;
  isFollowing(subscriberId: string, billerId: string, account: string): Promise<boolean>;

  // Broadcasts
  createBroadcast(broadcast: NewBroadcast, now: Date): Promise<BroadcastRecord>;
  getBroadcast(id: string): Promise<BroadcastRecord | null>;
  listBroadcasts(limit: number): Promise<BroadcastRecord[]>;
  /** Broadcasts whose recipients are still being written (resumed after a crash). */
  broadcastsPlanning(): Promise<BroadcastRecord[]>;
  /** Reachable identities in the audience on the channels, by channel and language. */
  countAudience(
    audience: BroadcastAudience,
    channels: BroadcastChannel[],
    reach?: BulkReach,
  ): Promise<AudienceGroup[]>;
  /**
   * Writes the next `batchSize` recipients (identity id order, after planCursor) as outbox
   * rows in one transaction, moving planCursor; when none are left the broadcast becomes
   * 'sending'. Does nothing once the broadcast is no longer 'planning'.
   */
  planBroadcastBatch(
    id: string,
    batchSize: number,
    now: Date,
    reach?: BulkReach,
  ): Promise<{ written: number; done: boolean }>;
  broadcastCounts(id: string): Promise<BroadcastCounts>;
  /** Sets status (and finishedAt/cancelledAt); returns false when it was not in `from`. */
  setBroadcastStatus(
    id: string,
    from: BroadcastStatus[],
    to: BroadcastStatus,
    now: Date,
  ): Promise<boolean>;
  /** Cancels the broadcast's rows still queued; returns how many. */
  cancelBroadcastItems(id: string, now: Date): Promise<number>;

  // Telegram updates (durable inbound record; redelivery dedupe by update_id)
  /** Records an update; false when that update_id was recorded before (a redelivery). */
  recordTelegramUpdate(updateId: number, payload: string): Promise<boolean>;
  /**
   * Claims the one answer a Telegram group (or channel) gets: true the first time for that
   * chat id, false ever after, across restarts and instances.
   */
  claimTelegramGroupNotice(chatId: string, at: Date): Promise<boolean>;
  /** Recorded updates not processed yet, in update_id order. */
  unprocessedTelegramUpdates(limit: number): Promise<TelegramUpdateRecord[]>;
  markTelegramUpdateProcessed(updateId: number, at: Date, error?: string | null): Promise<void>;

  // SMS (durable inbound record; redelivery dedupe by the gateway's own key)
  /** Records an inbound SMS; false when its dedupeKey was recorded before (a redelivery). */
  recordSmsInbound(message: NewSmsInbound): Promise<boolean>;
  /** Recorded SMS not processed yet, in the order they were recorded. */
  unprocessedSmsInbound(limit: number): Promise<SmsInboundRecord[]>;
  markSmsInboundProcessed(id: number, at: Date, error?: string | null): Promise<void>;
  /**
   * Records a delivery receipt once (not fresh for a repeated event) and applies it to the
   * outbox item its message belongs to (the item's providerMessageId, or one of its parts'):
   * the item's deliveryStatus only moves forward (queued < sent < failed < delivered; an item
   * of several parts is failed when one is, delivered when all are). In the same transaction:
   * - a sent item whose delivery is now failed, and every failure of it temporary, goes back
   *   in the queue at the retry schedule's next time after its attempts (none left: it stays
   *   sent and failed), counting one more redelivery, unless its broadcast was cancelled;
   *   a replayed or late receipt never puts it back twice, nor one of an earlier try;
   * - a "delivered" for the very message a failure had put back in the queue, before it was
   *   sent again, takes it out of the queue.
   * A receipt for a message not recorded yet is kept, and applied when the message is
   * (recordSentPart, finishOutbox). Receipts of one item, and the dispatcher's writes to it,
   * are applied one at a time, each over what the one before wrote.
   * `item`: the item as it is now, or null when none matched (a message not recorded yet, one
   * a resend replaced, another system's); `requeued`: this receipt put it back in the queue.
   */
  recordSmsStatus(
    event: SmsStatusEventRecord,
    now: Date,
  ): Promise<{ fresh: boolean; item: OutboxItemRecord | null; requeued: boolean }>;
  /**
   * Records one message of an item that goes out as several as soon as it went, while
   * `owner` holds the item's lease (false, nothing recorded, once it does not): its receipts
   * are matched before the whole turn is finished, those that came even earlier are applied
   * to it, and a try after a crash does not send it again.
   */
  recordSentPart(id: number, owner: string, part: SentPart, now: Date): Promise<boolean>;
  /** The recorded parts of an item that went out as several messages, in order. */
  sentParts(outboxItemId: number): Promise<SentPartRecord[]>;
}
