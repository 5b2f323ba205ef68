/**
 * The rows the core reads and writes through the Store port, one group per aggregate:
 * subscribers, follows and bills, payments, audit, outbox, broadcasts, inbound messages, watches.
 */
import type { IdentityChannel, Language } from '../domain.js';
import type { Qirsh } from '../money.js';
import type { BillStatus } from './biller.port.js';

export interface SubscriberRecord {
  id: string;
  language: Language;
  governorate: string | null;
  remindersEnabled: boolean;
  showOldPounds: boolean;
  lastPaymentChannel: string | null;
  walletNumber: string | null;
  /** The wallet number is the subscriber's own, vouched for by the channel (a shared contact). */
  walletVerified: boolean;
  pending: string | null;
  pendingAt: Date | null;
}

export interface IdentityRecord {
  id: string;
  subscriberId: string;
  channel: IdentityChannel;
  address: string;
  optedOut: boolean;
}

export interface FollowRecord {
  subscriberId: string;
  billerId: string;
  account: string;
  createdAt: Date;
}

export interface AccountSnapshot {
  billerId: string;
  account: string;
  holder: string;
  governorate: string;
  fetchedAt: Date;
  bills: BillRecord[];
}

export interface BillRecord {
  billerId: string;
  billId: string;
  account: string;
  period: string;
  amountMinor: Qirsh;
  currency: string;
  dueDate: string;
  status: BillStatus;
  fetchedAt: Date;
}

export interface CoverageRecord {
  billerId: string;
  governorate: string;
  available: boolean;
  updatedAt: Date;
  updatedBy: string;
}

/**
 * created: row written, provider not yet answered; pending: the provider has it;
 * succeeded / failed / expired: final; held: waits for staff (heldReason says why).
 */
export type PaymentStatus = 'created' | 'pending' | 'succeeded' | 'failed' | 'expired' | 'held';

export type HeldReason =
  'amount_mismatch' | 'reconciliation_exhausted' | 'biller_conflict' | 'late_success';

/** none: nothing to settle; queued: in the outbox; acknowledged; conflict (409). */
export type SettlementStatus = 'none' | 'queued' | 'acknowledged' | 'conflict';

export interface PaymentRecord {
  id: string;
  subscriberId: string;
  identityId: string;
  billerId: string;
  account: string;
  billId: string;
  amountMinor: Qirsh;
  currency: string;
  channelId: string;
  payerAddress: string;
  status: PaymentStatus;
  heldReason: HeldReason | null;
  openKey: string | null;
  providerRef: string | null;
  instructions: string | null;
  confirmedAmountMinor: Qirsh | null;
  deadlineAt: Date;
  reconcileAttempts: number;
  nextReconcileAt: Date | null;
  settlementStatus: SettlementStatus;
  settledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewPayment = Omit<
  PaymentRecord,
  | 'heldReason'
  | 'providerRef'
  | 'instructions'
  | 'confirmedAmountMinor'
  | 'reconcileAttempts'
  | 'nextReconcileAt'
  | 'settlementStatus'
  | 'settledAt'
  | 'createdAt'
  | 'updatedAt'
> & {
  /** When it was started (default: the database's now); what the hourly start limit counts by. */
  createdAt?: Date;
  /**
   * The payer number is the starter's own, vouched for by the channel (an SMS sender's number,
   * a shared Telegram contact): left out of the per-number start count (default false).
   */
  payerVerified?: boolean;
};

/** What a subscriber and a payer number have used of the payment limits. */
export interface PaymentQuotaUsage {
  /** The subscriber's open payments (created, pending or held). */
  openPayments: number;
  /**
   * When the subscriber's `maxStarts`-th latest payment since `since` was started: the window
   * is full until that one leaves it; null while fewer were started.
   */
  subscriberFullSince: Date | null;
  /**
   * The same for payments from the payer number by anyone but its verified owner (payments
   * with payerVerified); null, and not counted, when the starter is that owner.
   */
  payerFullSince: Date | null;
}

export type PaymentPatch = Partial<
  Pick<
    PaymentRecord,
    | 'status'
    | 'heldReason'
    | 'openKey'
    | 'providerRef'
    | 'instructions'
    | 'confirmedAmountMinor'
    | 'reconcileAttempts'
    | 'nextReconcileAt'
    | 'settlementStatus'
    | 'settledAt'
  >
>;

export interface PaymentEventRecord {
  channelId: string;
  eventId: string;
  paymentId: string;
  source: 'webhook' | 'reconcile' | 'initiate' | 'staff';
  status: string;
  amountMinor: Qirsh | null;
  occurredAt: Date | null;
  /** What the event did: applied, ignored (stale/duplicate state), held. */
  outcome: string;
}

export interface AuditEntry {
  actor: string;
  entity: string;
  entityId: string;
  action: string;
  fromState?: string | null;
  toState?: string | null;
  detail?: unknown;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'detail'>> {
  id: number;
  at: Date;
  detail: unknown;
}

/** Lanes, in the order the dispatcher serves them: a person's reply, then work, then bulk. */
export type OutboxLane = 'reply' | 'work' | 'bulk';
/**
 * message: a reply or notice (key and arguments); settlement: deferred work; reminder: a due
 * bill (checked again just before it is sent); broadcast: a staff broadcast's recipient.
 */
export type OutboxKind = 'message' | 'settlement' | 'reminder' | 'broadcast';
export type OutboxStatus =
  'queued' | 'leased' | 'sent' | 'done' | 'failed' | 'cancelled' | 'skipped';

/** See Store.recentReplies. */
export interface RecentReplies {
  answered: number;
  /** Newest first. */
  latest: Array<{ at: Date; payload: unknown; withheld: boolean }>;
}

export interface NewOutboxItem {
  kind: OutboxKind;
  lane: OutboxLane;
  /** A unique key makes enqueueing idempotent: a second item with the same key is not written. */
  dedupeKey?: string | null;
  identityId?: string | null;
  channel?: string | null;
  address?: string | null;
  /** JSON-serialisable; for messages `{ key, args }` (see outbox/message.ts). */
  payload: unknown;
  broadcastId?: string | null;
  /** Bulk only: goes out in quiet hours too. */
  urgent?: boolean;
  nextAttemptAt?: Date;
  /** When it was decided (default: the database's now); what the SMS reply cap counts by. */
  createdAt?: Date;
  /**
   * A reply decided and not sent on purpose (e.g. to an auto-responder loop): written already
   * skipped, with this as its error, so that it is on record and never claimed.
   */
  withheld?: string;
}

/** Which rows a dispatcher pool claims. */
export interface OutboxClaimFilter {
  lanes: readonly OutboxLane[];
  /** Quiet hours: bulk rows only when urgent (other lanes are not affected). */
  bulkUrgentOnly?: boolean;
}

export interface OutboxItemRecord {
  id: number;
  kind: OutboxKind;
  lane: OutboxLane;
  dedupeKey: string | null;
  identityId: string | null;
  channel: string | null;
  address: string | null;
  payload: unknown;
  text: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  lastError: string | null;
  providerMessageId: string | null;
  deliveryStatus: string | null;
  broadcastId: string | null;
  urgent: boolean;
  createdAt: Date;
  doneAt: Date | null;
  /** Times a delivery receipt's temporary failure put this sent row back in the queue. */
  redeliveries: number;
}

/**
 * The provider's id of one of the several messages an item went out as (`part`: its place,
 * from 0), for matching each one's delivery receipt. Null when the provider gave none.
 */
export interface SentPart {
  part: number;
  providerMessageId: string | null;
  /** Times this part was sent again after a receipt reported it failed (default 0). */
  resends?: number;
}

/** A recorded part of an item that went out as several messages, with its delivery state. */
export interface SentPartRecord extends SentPart {
  resends: number;
  deliveryStatus: string | null;
}

export type OutboxOutcome =
  | {
      status: 'sent' | 'done';
      text?: string | null;
      providerMessageId?: string | null;
      /** The item went out as several messages: the ones sent this time. */
      parts?: SentPart[];
      /**
       * The medium reports delivery receipts (SMS): the item's delivery is settled from its
       * parts and the receipts already kept. Without it (Telegram, the sandbox) there is
       * nothing to settle, and finishing costs one write.
       */
      receipts?: boolean;
    }
  /** `parts`: messages of the item that went out before the failure (not sent again). */
  | { status: 'retry'; error: string; nextAttemptAt: Date; parts?: SentPart[] }
  /** Not now, and not a failed attempt (quiet hours began, a rate gate was closing). */
  | { status: 'deferred'; reason: string; until: Date }
  | { status: 'failed' | 'skipped' | 'cancelled'; error: string };

export type WatchKind = 'biller' | 'payment';

/** Who a broadcast reaches (docs/design.md §7): everyone, or all of the given filters at once. */
export type BroadcastAudience =
  { all: true } | { governorates?: string[]; billers?: string[]; languages?: Language[] };

/** The channels a broadcast may use; a recipient gets it on each of theirs that is listed. */
export type BroadcastChannel = 'sms' | 'telegram';

/** planning: recipients being written; sending; done; cancelled. */
export type BroadcastStatus = 'planning' | 'sending' | 'done' | 'cancelled';

export interface BroadcastRecord {
  id: string;
  text: { ar: string; en: string | null };
  audience: BroadcastAudience;
  channels: BroadcastChannel[];
  urgent: boolean;
  status: BroadcastStatus;
  recipients: number;
  smsPartsPerMessage: number;
  smsPartsTotal: number;
  planCursor: string | null;
  createdBy: string;
  createdAt: Date;
  cancelledAt: Date | null;
  finishedAt: Date | null;
}

export type NewBroadcast = Pick<
  BroadcastRecord,
  | 'id'
  | 'text'
  | 'audience'
  | 'channels'
  | 'urgent'
  | 'recipients'
  | 'smsPartsPerMessage'
  | 'smsPartsTotal'
  | 'createdBy'
>;

/** Recipients of an audience by identity channel and language (for counts and SMS cost). */
export interface AudienceGroup {
  channel: IdentityChannel;
  language: Language;
  count: number;
}

/** Recipient rows of a broadcast by state (docs/design.md §7); delivered is a subset of sent. */
export interface BroadcastCounts {
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
  skipped: number;
  cancelled: number;
}

/** What a reminder row carries; the bill is looked up again just before sending. */
export interface ReminderPayload {
  billerId: string;
  billId: string;
  account: string;
  /** Days from the due date (negative: before it). */
  offset: number;
}

/** A Telegram update recorded before it is acted on; `payload` is the update's JSON text. */
export interface TelegramUpdateRecord {
  updateId: number;
  payload: string;
  receivedAt: Date;
}

/** An SMS recorded before it is acted on. */
export interface SmsInboundRecord {
  id: number;
  gateway: string;
  dedupeKey: string;
  fromAddress: string;
  toAddress: string | null;
  text: string;
  receivedAt: Date | null;
  recordedAt: Date;
  /** The keyword the gateway itself recognised (Twilio's OptOutType): stop, start or help. */
  keyword: string | null;
}

export type NewSmsInbound = Omit<SmsInboundRecord, 'id' | 'recordedAt' | 'keyword'> & {
  keyword?: string | null;
};

/** How a gateway classified a failed delivery: a temporary failure is sent again (docs/design.md §8). */
export type DeliveryFailureKind = 'temporary' | 'permanent' | 'opted-out';

/** A delivery receipt for an SMS we sent. */
export interface SmsStatusEventRecord {
  dedupeKey: string;
  gateway: string;
  providerMessageId: string;
  state: string;
  errorCode: string | null;
  /** A failed delivery's class, as the gateway adapter gave it; null for other states. */
  failure?: DeliveryFailureKind | null;
  /** Why it failed, in words (the row's lastError when it is sent again). */
  failureError?: string | null;
}

export interface WatchRecord {
  id: string;
  kind: WatchKind;
  target: string;
  subscriberId: string;
  identityId: string;
}
