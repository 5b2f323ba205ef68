/**
 * The staff console's reports ("today at a glance"). Read
 * only, through PrismaStore.read with Prisma's model API alone (groupBy, count, findMany), so
 * that they run unchanged on SQLite and PostgreSQL.
 */
import type { IdentityChannel } from '../core/domain.js';
import { qirsh, type Qirsh } from '../core/money.js';
import type { OutboxKind } from '../core/ports/store.port.js';
import type { Prisma } from '../generated/prisma/client.js';
import { qirshFromColumn } from './money-column.js';

/** What the queries need of the store: PrismaStore has it. */
export interface ReadableStore {
  read<T>(fn: (db: Prisma.TransactionClient) => Promise<T>): Promise<T>;
}

export function isReadableStore(store: object): store is ReadableStore {
  return typeof (store as Partial<ReadableStore>).read === 'function';
}

/** Payments started in the period, by outcome. */
export interface PaymentFigures {
  count: number;
  succeeded: number;
  /** What the succeeded ones paid. */
  succeededMinor: Qirsh;
  /** created or pending: the provider has not answered yet. */
  open: number;
  held: number;
  /** failed or expired. */
  failed: number;
}

export interface MessageFigures {
  /** Waiting in the outbox (queued, or being sent). */
  queued: number;
  /** Handed to the channel (Telegram, an SMS gateway, the sandbox). */
  sent: number;
  /** Confirmed by a delivery receipt (a subset of sent; SMS gateways report it). */
  delivered: number;
  /** Sending failed, or the gateway reported that delivery failed. */
  failed: number;
  /** Not sent on purpose (opted out, no longer relevant) or cancelled. */
  skipped: number;
}

export interface OpenPayment {
  id: string;
  billerId: string;
  account: string;
  amountMinor: Qirsh;
  status: string;
  channelId: string;
  createdAt: Date;
}

export interface TodayReport {
  since: Date;
  totals: PaymentFigures;
  byBiller: Array<PaymentFigures & { billerId: string }>;
  /** The governorate of a payment's account (as the biller reported it); null when unknown. */
  byGovernorate: Array<PaymentFigures & { governorate: string | null }>;
  /** Payments open now, whenever they started. */
  pending: { open: number; held: number; oldest: OpenPayment[] };
  /** Messages (replies, reminders, broadcasts) written in the period, by identity channel. */
  messages: Array<MessageFigures & { channel: IdentityChannel | 'unknown' }>;
}

const MESSAGE_KINDS: OutboxKind[] = ['message', 'reminder', 'broadcast'];
/** Rows per `IN (…)` list: well under every database's parameter limit. */
const CHUNK = 500;

function emptyPayments(): PaymentFigures {
  return { count: 0, succeeded: 0, succeededMinor: qirsh(0), open: 0, held: 0, failed: 0 };
}

function emptyMessages(): MessageFigures {
  return { queued: 0, sent: 0, delivered: 0, failed: 0, skipped: 0 };
}

function addPayments(
  into: PaymentFigures,
  status: string,
  count: number,
  sum: bigint | null,
): void {
  into.count += count;
  if (status === 'succeeded') {
    into.succeeded += count;
    into.succeededMinor = qirshFromColumn(BigInt(into.succeededMinor) + (sum ?? 0n));
  } else if (status === 'created' || status === 'pending') into.open += count;
  else if (status === 'held') into.held += count;
  else into.failed += count;
}

function addMessages(
  into: MessageFigures,
  status: string,
  deliveryStatus: string | null,
  count: number,
): void {
  if (status === 'queued' || status === 'leased') into.queued += count;
  else if (status === 'sent' || status === 'done') into.sent += count;
  else if (status === 'failed') into.failed += count;
  else into.skipped += count;
  if (deliveryStatus === 'delivered') into.delivered += count;
  else if ((deliveryStatus === 'failed' || deliveryStatus === 'undelivered') && status !== 'failed')
    into.failed += count;
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function sorted<T>(map: Map<string, T>): Array<[string, T]> {
  return [...map].sort(([a], [b]) => a.localeCompare(b));
}

export class ConsoleQueries {
  constructor(private readonly store: ReadableStore) {}

  /** Payments and messages since `since` (the start of the local day), and what is open now. */
  async today(since: Date): Promise<TodayReport> {
    return this.store.read(async (db) => {
      const created = { createdAt: { gte: since } };
      const [byBillerRows, byAccountRows, openRows, oldest] = await Promise.all([
        db.payment.groupBy({
          by: ['billerId', 'status'],
          where: created,
          _count: { _all: true },
          _sum: { amountMinor: true },
        }),
        // The governorate lives on the account (BillAccount), looked up below.
        db.payment.groupBy({
          by: ['billerId', 'account', 'status'],
          where: created,
          _count: { _all: true },
          _sum: { amountMinor: true },
        }),
        db.payment.groupBy({
          by: ['status'],
          where: { status: { in: ['created', 'pending', 'held'] } },
          _count: { _all: true },
        }),
        db.payment.findMany({
          where: { status: { in: ['created', 'pending'] } },
          orderBy: { createdAt: 'asc' },
          take: 10,
          select: {
            id: true,
            billerId: true,
            account: true,
            amountMinor: true,
            status: true,
            channelId: true,
            createdAt: true,
          },
        }),
      ]);

      const totals = emptyPayments();
      const billers = new Map<string, PaymentFigures>();
      for (const r of byBillerRows) {
        const figures = billers.get(r.billerId) ?? emptyPayments();
        addPayments(figures, r.status, r._count._all, r._sum.amountMinor);
        addPayments(totals, r.status, r._count._all, r._sum.amountMinor);
        billers.set(r.billerId, figures);
      }

      const governorateOf = new Map<string, string>();
      const pairs = [
        ...new Map(byAccountRows.map((r) => [`${r.billerId}\u0000${r.account}`, r])).values(),
      ];
      for (const chunk of chunks(pairs)) {
        const accounts = await db.billAccount.findMany({
          where: { OR: chunk.map((p) => ({ billerId: p.billerId, account: p.account })) },
          select: { billerId: true, account: true, governorate: true },
        });
        for (const a of accounts)
          governorateOf.set(`${a.billerId}\u0000${a.account}`, a.governorate);
      }
      const governorates = new Map<string, PaymentFigures>();
      for (const r of byAccountRows) {
        const key = governorateOf.get(`${r.billerId}\u0000${r.account}`) ?? '';
        const figures = governorates.get(key) ?? emptyPayments();
        addPayments(figures, r.status, r._count._all, r._sum.amountMinor);
        governorates.set(key, figures);
      }

      const pending = { open: 0, held: 0 };
      for (const r of openRows) {
        if (r.status === 'held') pending.held += r._count._all;
        else pending.open += r._count._all;
      }

      return {
        since,
        totals,
        byBiller: sorted(billers).map(([billerId, f]) => ({ billerId, ...f })),
        byGovernorate: sorted(governorates).map(([g, f]) => ({ governorate: g || null, ...f })),
        pending: {
          ...pending,
          oldest: oldest.map((p) => ({ ...p, amountMinor: qirshFromColumn(p.amountMinor) })),
        },
        messages: await this.messagesSince(db, since),
      };
    });
  }

  /**
   * Broadcast rows carry their identity's channel; replies and reminders carry only the identity,
   * so those are grouped by identity (one row per person who got a message in the period) and
   * the identities' channels looked up.
   */
  private async messagesSince(
    db: Prisma.TransactionClient,
    since: Date,
  ): Promise<TodayReport['messages']> {
    const where = { createdAt: { gte: since }, kind: { in: MESSAGE_KINDS } };
    const [withChannel, byIdentity] = await Promise.all([
      db.outboxItem.groupBy({
        by: ['channel', 'status', 'deliveryStatus'],
        where: { ...where, channel: { not: null } },
        _count: { _all: true },
      }),
      db.outboxItem.groupBy({
        by: ['identityId', 'status', 'deliveryStatus'],
        where: { ...where, channel: null },
        _count: { _all: true },
      }),
    ]);
    const channelOf = new Map<string, string>();
    const ids = [...new Set(byIdentity.map((r) => r.identityId).filter((id) => id !== null))];
    for (const chunk of chunks(ids)) {
      const identities = await db.identity.findMany({
        where: { id: { in: chunk } },
        select: { id: true, channel: true },
      });
      for (const i of identities) channelOf.set(i.id, i.channel);
    }
    const channels = new Map<string, MessageFigures>();
    const add = (channel: string, status: string, delivery: string | null, n: number) => {
      const figures = channels.get(channel) ?? emptyMessages();
      addMessages(figures, status, delivery, n);
      channels.set(channel, figures);
    };
    for (const r of withChannel)
      add(r.channel ?? 'unknown', r.status, r.deliveryStatus, r._count._all);
    for (const r of byIdentity) {
      const channel = (r.identityId && channelOf.get(r.identityId)) || 'unknown';
      add(channel, r.status, r.deliveryStatus, r._count._all);
    }
    return sorted(channels).map(([channel, f]) => ({
      channel: channel as IdentityChannel | 'unknown',
      ...f,
    }));
  }
}
