/**
 * Store over Prisma (SQLite through @prisma/adapter-better-sqlite3).
 *
 * Two things about that adapter shape this file:
 *
 * - One client is one better-sqlite3 connection, and a statement issued outside an open
 *   interactive transaction runs on that connection anyway, i.e. inside the transaction (it
 *   commits or is lost with it). So a root store serialises everything it does with its
 *   transactions through a lock shared by all stores on the same client; inside
 *   `transaction(fn)` use only the store passed to fn (using the root store there is an error,
 *   reported at once instead of waiting for the transaction's timeout).
 * - The adapter starts transactions with a deferred BEGIN. Another process writing between our
 *   first read and our first write would then fail our write with SQLITE_BUSY_SNAPSHOT, so each
 *   transaction takes the write lock first (a no-op UPDATE of the migrations table): the same as
 *   BEGIN IMMEDIATE, waiting up to the busy timeout for another writer.
 *
 * A failed INSERT (unique violation) does not abort a SQLite transaction, which createPayment,
 * enqueue, follow… rely on when called inside one. PostgreSQL aborts the whole transaction: its
 * implementation will need INSERT … ON CONFLICT DO NOTHING or savepoints instead.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import {
  isSandbox,
  SANDBOX_CHANNELS,
  type IdentityChannel,
  type Language,
} from '../core/domain.js';
import type { BillStatus } from '../core/ports/biller.port.js';
import type { BulkReach } from '../core/ports/bulk-reach.js';
import type {
  AccountSnapshot,
  AudienceGroup,
  BroadcastAudience,
  BroadcastChannel,
  BroadcastCounts,
  BroadcastRecord,
  BroadcastStatus,
  NewBroadcast,
  OutboxClaimFilter,
  AuditEntry,
  AuditRecord,
  BillRecord,
  CoverageRecord,
  FollowRecord,
  HeldReason,
  IdentityRecord,
  NewOutboxItem,
  NewPayment,
  OutboxItemRecord,
  OutboxKind,
  OutboxLane,
  OutboxOutcome,
  OutboxStatus,
  PaymentEventRecord,
  PaymentPatch,
  PaymentRecord,
  PaymentStatus,
  RecentReplies,
  SettlementStatus,
  Store,
  SubscriberRecord,
  TelegramUpdateRecord,
  NewSmsInbound,
  SmsInboundRecord,
  SmsStatusEventRecord,
  SentPart,
  SentPartRecord,
  WatchKind,
  WatchRecord,
} from '../core/ports/store.port.js';
import { Prisma } from '../generated/prisma/client.js';
import { claimGroupNotice } from './telegram-groups.js';
import type {
  AuditLog,
  Bill,
  BillAccount,
  Broadcast,
  Coverage,
  FollowedAccount,
  Identity,
  OutboxItem,
  Payment,
  PaymentEvent,
  PrismaClient,
  Subscriber,
  Watch,
} from '../generated/prisma/client.js';
import { nextRetryAt } from '../core/outbox/retry.js';
import { broadcastCounts } from './broadcast-counts.js';
import { recentReplies } from './reply-history.js';
import { sqliteDialect, type SqlDialect } from './dialect.js';
import { MIGRATIONS_TABLE } from './migrate.js';
import { qirshFromColumn } from './money-column.js';
import { followUpTo, paymentQuota } from './subscriber-limits.js';
import { replacePending } from './subscriber-pending.js';

type Db = Prisma.TransactionClient;

export interface PrismaStoreOptions {
  /** How long one transaction may run before Prisma rolls it back (default 10 000 ms). */
  transactionTimeoutMs?: number;
  /** SQLite: take the write lock when a transaction starts (default true; see above). */
  lockOnBegin?: boolean;
  /** The database behind the client (default SQLite). */
  dialect?: SqlDialect;
}

const LANES: readonly OutboxLane[] = ['reply', 'work', 'bulk'];

/** A FIFO async lock. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** One lock per client, whatever the number of stores made on it. */
const locks = new WeakMap<object, Mutex>();

interface TxContext {
  lock: Mutex;
  active: boolean;
}
const txContext = new AsyncLocalStorage<TxContext>();

/**
 * A transaction client has `$transaction` too (nested transactions), but not `$disconnect`
 * (Prisma's ITXClientDenyList: $connect, $disconnect, $on, $use, $extends).
 */
function isRootClient(client: PrismaClient | Db): client is PrismaClient {
  return typeof (client as { $disconnect?: unknown }).$disconnect === 'function';
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/**
 * How far a delivery has got: queued < sent < failed < delivered. A receipt only ever moves
 * an item forward; "delivered" wins over a "failed" that arrives before or after it.
 */
const DELIVERY_RANK: ReadonlyMap<string, number> = new Map([
  ['queued', 1],
  ['sent', 2],
  ['failed', 3],
  ['delivered', 4],
]);

function deliveryRank(state: string | null): number {
  return state === null ? 0 : (DELIVERY_RANK.get(state) ?? 0);
}

/**
 * The delivery of an item sent as several messages: failed when one of them failed, else as
 * far as the least advanced one got (delivered when all were); null while one has no receipt.
 */
function partsDelivery(states: ReadonlyArray<string | null>): string | null {
  if (states.includes('failed')) return 'failed';
  let least: string | null = 'delivered';
  for (const state of states) if (deliveryRank(state) < deliveryRank(least)) least = state;
  return least;
}

function toJson(value: unknown): string {
  // JSON.stringify gives undefined for undefined (and functions): store null then.
  const text: string | undefined = JSON.stringify(value);
  return text ?? 'null';
}

function fromJson(text: string): unknown {
  return JSON.parse(text) as unknown;
}

let savepoints = 0;

export class PrismaStore implements Store {
  private readonly db: Db;
  private readonly root: PrismaClient | null;
  /** SQLite's one connection: everything a root store does is serialised (see above). */
  private readonly lock: Mutex | null;
  private readonly options: Required<PrismaStoreOptions>;
  private readonly d: SqlDialect;

  constructor(client: PrismaClient | Prisma.TransactionClient, options: PrismaStoreOptions = {}) {
    this.db = client;
    this.options = {
      transactionTimeoutMs: options.transactionTimeoutMs ?? 10_000,
      lockOnBegin: options.lockOnBegin ?? true,
      dialect: options.dialect ?? sqliteDialect,
    };
    this.d = this.options.dialect;
    if (isRootClient(client)) {
      this.root = client;
      let lock = locks.get(client);
      if (!lock && this.d.name === 'sqlite') {
        lock = new Mutex();
        locks.set(client, lock);
      }
      this.lock = lock ?? null;
    } else {
      this.root = null;
      this.lock = null;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  /**
   * Runs one operation: under the client's lock for a SQLite root store, directly otherwise.
   * Inside a PostgreSQL transaction the operation gets a savepoint: a failed statement (a
   * unique violation the store answers as "already there") would otherwise abort the whole
   * transaction, where SQLite carries on.
   */
  private async run<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const lock = this.lock;
    if (lock) {
      this.refuseInsideOwnTransaction(lock);
      return lock.run(() => fn(this.db));
    }
    if (!this.root && this.d.name === 'postgresql') return this.savepoint(fn);
    return fn(this.db);
  }

  private async savepoint<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const name = `tasdeed_sp_${++savepoints}`;
    await this.db.$executeRawUnsafe(`SAVEPOINT ${name}`);
    try {
      const value = await fn(this.db);
      await this.db.$executeRawUnsafe(`RELEASE SAVEPOINT ${name}`);
      return value;
    } catch (error) {
      await this.db.$executeRawUnsafe(`ROLLBACK TO SAVEPOINT ${name}`);
      throw error;
    }
  }

  /** Runs fn in a transaction: a new one for a root store, the current one for a tx store. */
  private async withTx<T>(fn: (db: Db, store: PrismaStore) => Promise<T>): Promise<T> {
    const root = this.root;
    const lock = this.lock;
    if (!root) {
      // Nested in the caller's transaction (on PostgreSQL, under a savepoint as above).
      return this.d.name === 'postgresql'
        ? this.savepoint((db) => fn(db, this))
        : fn(this.db, this);
    }
    if (!lock) {
      // PostgreSQL: a pooled connection per transaction, no process-wide lock.
      return root.$transaction((tx) => fn(tx, new PrismaStore(tx, this.options)), {
        maxWait: 5_000,
        timeout: this.options.transactionTimeoutMs,
      });
    }
    this.refuseInsideOwnTransaction(lock);
    return lock.run(async () => {
      const ctx: TxContext = { lock, active: true };
      try {
        return await txContext.run(ctx, () =>
          root.$transaction(
            async (tx) => {
              if (this.options.lockOnBegin) {
                await tx.$executeRawUnsafe(
                  `UPDATE "${MIGRATIONS_TABLE}" SET "name" = "name" WHERE 0`,
                );
              }
              return fn(tx, new PrismaStore(tx, this.options));
            },
            { maxWait: 5_000, timeout: this.options.transactionTimeoutMs },
          ),
        );
      } finally {
        ctx.active = false;
      }
    });
  }

  private refuseInsideOwnTransaction(lock: Mutex): void {
    const ctx = txContext.getStore();
    if (ctx?.active && ctx.lock === lock) {
      throw new Error(
        'PrismaStore: the root store was used inside one of its own transactions; ' +
          'use the store passed to transaction(fn) instead (it would wait for the transaction forever).',
      );
    }
  }

  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return this.withTx((_db, store) => fn(store));
  }

  /**
   * Runs read-only queries of callers outside the core (the staff console's reports) under
   * the same rules as the store's own: the model API only, so that they run on both dialects.
   */
  read<T>(fn: (db: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.run(fn);
  }

  /**
   * Runs statements written by hand for callers outside the core (the staff login throttle)
   * under the same rules, with the dialect that writes their placeholders.
   */
  sql<T>(fn: (db: Prisma.TransactionClient, dialect: SqlDialect) => Promise<T>): Promise<T> {
    return this.run((db) => fn(db, this.d));
  }

  /**
   * Runs fn in one transaction of its own, with the raw client and the dialect, under the same
   * rules as the store's own (SQLite: serialised with them, write lock taken at the start): for
   * stores kept in files of their own (retention-store.ts).
   */
  write<T>(fn: (db: Prisma.TransactionClient, dialect: SqlDialect) => Promise<T>): Promise<T> {
    return this.withTx((db) => fn(db, this.d));
  }

  /** The SQL dialect of the database behind this store. */
  get dialect(): SqlDialect {
    return this.d;
  }

  async ping(): Promise<void> {
    await this.run((db) => db.$queryRaw`SELECT 1`);
  }

  // ---------------------------------------------------------------------------------------------
  // Subscribers and identities

  async findIdentity(channel: IdentityChannel, address: string): Promise<IdentityRecord | null> {
    const row = await this.run((db) =>
      db.identity.findUnique({ where: { channel_address: { channel, address } } }),
    );
    return row ? toIdentity(row) : null;
  }

  async getIdentity(id: string): Promise<IdentityRecord | null> {
    const row = await this.run((db) => db.identity.findUnique({ where: { id } }));
    return row ? toIdentity(row) : null;
  }

  async ensureIdentity(
    channel: IdentityChannel,
    address: string,
    language: Language,
  ): Promise<{ identity: IdentityRecord; created: boolean }> {
    const subscriberId = randomUUID();
    try {
      return await this.withTx(async (db) => {
        const existing = await db.identity.findUnique({
          where: { channel_address: { channel, address } },
        });
        if (existing) return { identity: toIdentity(existing), created: false };
        await db.subscriber.create({ data: { id: subscriberId, language } });
        const identity = await db.identity.create({
          data: { id: randomUUID(), subscriberId, channel, address },
        });
        return { identity: toIdentity(identity), created: true };
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Another connection created it first. A root store's transaction rolled back the
      // subscriber; inside a caller's transaction it is still there and is removed here.
      if (!this.root) await this.db.subscriber.deleteMany({ where: { id: subscriberId } });
      const existing = await this.findIdentity(channel, address);
      if (!existing) throw error;
      return { identity: existing, created: false };
    }
  }

  async getSubscriber(id: string): Promise<SubscriberRecord | null> {
    const row = await this.run((db) => db.subscriber.findUnique({ where: { id } }));
    return row ? toSubscriber(row) : null;
  }

  async updateSubscriber(
    id: string,
    patch: Partial<Omit<SubscriberRecord, 'id'>>,
  ): Promise<SubscriberRecord> {
    const data: Prisma.SubscriberUpdateInput = {
      language: patch.language,
      governorate: patch.governorate,
      remindersEnabled: patch.remindersEnabled,
      showOldPounds: patch.showOldPounds,
      lastPaymentChannel: patch.lastPaymentChannel,
      walletNumber: patch.walletNumber,
      walletVerified: patch.walletVerified,
      pending: patch.pending,
      pendingAt: patch.pendingAt,
    };
    const row = await this.run((db) => db.subscriber.update({ where: { id }, data }));
    return toSubscriber(row);
  }

  replacePending(
    subscriberId: string,
    change: { from: string | null; to: string | null; at: Date | null },
  ): Promise<boolean> {
    return this.run((db) => replacePending(db, subscriberId, change));
  }

  async setOptedOut(identityId: string, optedOut: boolean, at: Date): Promise<void> {
    await this.run((db) =>
      db.identity.update({
        where: { id: identityId },
        data: { optedOut, optedOutAt: optedOut ? at : null },
      }),
    );
  }

  async identitiesOf(subscriberId: string): Promise<IdentityRecord[]> {
    const rows = await this.run((db) =>
      db.identity.findMany({
        where: { subscriberId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
    );
    return rows.map(toIdentity);
  }

  // ---------------------------------------------------------------------------------------------
  // Followed accounts

  followUpTo(
    subscriberId: string,
    billerId: string,
    account: string,
    max: number,
  ): Promise<'added' | 'already' | 'full'> {
    return this.withTx((db) => followUpTo(db, this.d, { subscriberId, billerId, account, max }));
  }

  async unfollow(subscriberId: string, billerId: string, account: string): Promise<boolean> {
    const { count } = await this.run((db) =>
      db.followedAccount.deleteMany({ where: { subscriberId, billerId, account } }),
    );
    return count > 0;
  }

  async followsOf(subscriberId: string): Promise<FollowRecord[]> {
    const rows = await this.run((db) =>
      db.followedAccount.findMany({
        where: { subscriberId },
        orderBy: [{ createdAt: 'asc' }, { billerId: 'asc' }, { account: 'asc' }],
      }),
    );
    return rows.map(toFollow);
  }

  // ---------------------------------------------------------------------------------------------
  // Bill cache

  async saveAccountSnapshot(snapshot: AccountSnapshot): Promise<void> {
    await this.withTx(async (db) => {
      const { billerId, account, holder, governorate, fetchedAt } = snapshot;
      await db.billAccount.upsert({
        where: { billerId_account: { billerId, account } },
        create: { billerId, account, holder, governorate, fetchedAt },
        update: { holder, governorate, fetchedAt },
      });
      for (const bill of snapshot.bills) {
        const fields = {
          account: bill.account,
          period: bill.period,
          amountMinor: bill.amountMinor,
          currency: bill.currency,
          dueDate: bill.dueDate,
          status: bill.status,
          fetchedAt: bill.fetchedAt,
        };
        await db.bill.upsert({
          where: { billerId_billId: { billerId: bill.billerId, billId: bill.billId } },
          create: { billerId: bill.billerId, billId: bill.billId, ...fields },
          update: fields,
        });
      }
      // A bill the biller no longer lists is no longer owed (settled, or withdrawn).
      await db.bill.updateMany({
        where: {
          billerId,
          account,
          status: 'unpaid',
          billId: { notIn: snapshot.bills.map((b) => b.billId) },
        },
        data: { status: 'paid', fetchedAt },
      });
    });
  }

  async getAccountSnapshot(billerId: string, account: string): Promise<AccountSnapshot | null> {
    return this.withTx(async (db) => {
      const row = await db.billAccount.findUnique({
        where: { billerId_account: { billerId, account } },
      });
      if (!row) return null;
      const bills = await db.bill.findMany({
        where: { billerId, account },
        orderBy: [{ dueDate: 'asc' }, { billId: 'asc' }],
      });
      return toSnapshot(row, bills);
    });
  }

  async markBillPaid(billerId: string, billId: string): Promise<void> {
    await this.run((db) =>
      db.bill.updateMany({ where: { billerId, billId }, data: { status: 'paid' } }),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Coverage

  async seedCoverage(
    rows: Array<Omit<CoverageRecord, 'updatedAt' | 'updatedBy'>>,
  ): Promise<number> {
    if (rows.length === 0) return 0;
    // One statement per row that inserts only what is missing: instances starting together on
    // PostgreSQL seed at the same moment, and a read-then-insert would collide.
    const now = new Date();
    return this.withTx(async (db) => {
      let inserted = 0;
      for (const { billerId, governorate, available } of rows) {
        inserted += await db.$executeRawUnsafe(
          this.d.sql(
            `INSERT INTO "Coverage" ("billerId", "governorate", "available", "updatedAt", "updatedBy")
             VALUES (?, ?, ${available ? 'TRUE' : 'FALSE'}, ${this.d.timeParam}, 'catalogue')
             ON CONFLICT ("billerId", "governorate") DO NOTHING`,
          ),
          billerId,
          governorate,
          this.d.time(now),
        );
      }
      return inserted;
    });
  }

  async getCoverage(billerId: string, governorate: string): Promise<CoverageRecord | null> {
    const row = await this.run((db) =>
      db.coverage.findUnique({ where: { billerId_governorate: { billerId, governorate } } }),
    );
    return row ? toCoverage(row) : null;
  }

  async listCoverage(): Promise<CoverageRecord[]> {
    const rows = await this.run((db) =>
      db.coverage.findMany({ orderBy: [{ billerId: 'asc' }, { governorate: 'asc' }] }),
    );
    return rows.map(toCoverage);
  }

  async setCoverage(
    billerId: string,
    governorate: string,
    available: boolean,
    by: string,
  ): Promise<void> {
    const updatedAt = new Date();
    await this.run((db) =>
      db.coverage.upsert({
        where: { billerId_governorate: { billerId, governorate } },
        create: { billerId, governorate, available, updatedAt, updatedBy: by },
        update: { available, updatedAt, updatedBy: by },
      }),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Payments

  async createPayment(payment: NewPayment): Promise<{ payment: PaymentRecord; created: boolean }> {
    const data: Prisma.PaymentCreateInput = {
      id: payment.id,
      subscriberId: payment.subscriberId,
      identityId: payment.identityId,
      billerId: payment.billerId,
      account: payment.account,
      billId: payment.billId,
      amountMinor: payment.amountMinor,
      currency: payment.currency,
      channelId: payment.channelId,
      payerAddress: payment.payerAddress,
      payerVerified: payment.payerVerified ?? false,
      status: payment.status,
      openKey: payment.openKey,
      deadlineAt: payment.deadlineAt,
      ...(payment.createdAt ? { createdAt: payment.createdAt } : {}),
    };
    // The holder of the openKey may close (openKey cleared) between our failed insert and the
    // read; then the insert is tried again.
    for (let attempt = 1; ; attempt++) {
      try {
        const row = await this.run((db) => db.payment.create({ data }));
        return { payment: toPayment(row), created: true };
      } catch (error) {
        if (!isUniqueViolation(error) || payment.openKey === null) throw error;
        const holder = await this.findPaymentByOpenKey(payment.openKey);
        if (holder) return { payment: holder, created: false };
        if (attempt >= 3) throw error;
      }
    }
  }

  paymentQuota(query: Parameters<Store['paymentQuota']>[0]): ReturnType<Store['paymentQuota']> {
    return this.run((db) => paymentQuota(db, this.d, query));
  }

  async getPayment(id: string): Promise<PaymentRecord | null> {
    const row = await this.run((db) => db.payment.findUnique({ where: { id } }));
    return row ? toPayment(row) : null;
  }

  async findPaymentByOpenKey(openKey: string): Promise<PaymentRecord | null> {
    const row = await this.run((db) => db.payment.findUnique({ where: { openKey } }));
    return row ? toPayment(row) : null;
  }

  async updatePayment(
    id: string,
    expectedStatus: PaymentStatus,
    patch: PaymentPatch,
  ): Promise<PaymentRecord | null> {
    const data: Prisma.PaymentUpdateManyMutationInput = {
      status: patch.status,
      heldReason: patch.heldReason,
      openKey: patch.openKey,
      providerRef: patch.providerRef,
      instructions: patch.instructions,
      confirmedAmountMinor: patch.confirmedAmountMinor,
      reconcileAttempts: patch.reconcileAttempts,
      nextReconcileAt: patch.nextReconcileAt,
      settlementStatus: patch.settlementStatus,
      settledAt: patch.settledAt,
    };
    const rows = await this.run((db) =>
      db.payment.updateManyAndReturn({ where: { id, status: expectedStatus }, data }),
    );
    const row = rows[0];
    return row ? toPayment(row) : null;
  }

  async paymentsToReconcile(now: Date, limit: number): Promise<PaymentRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.run((db) =>
      db.payment.findMany({
        where: { status: { in: ['created', 'pending'] }, nextReconcileAt: { lte: now } },
        orderBy: [{ nextReconcileAt: 'asc' }, { id: 'asc' }],
        take: limit,
      }),
    );
    return rows.map(toPayment);
  }

  async listPayments(filter: { status?: PaymentStatus }): Promise<PaymentRecord[]> {
    const rows = await this.run((db) =>
      db.payment.findMany({
        where: filter.status === undefined ? {} : { status: filter.status },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
    );
    return rows.map(toPayment);
  }

  async succeededPaymentForBill(billerId: string, billId: string): Promise<PaymentRecord | null> {
    const row = await this.run((db) =>
      db.payment.findFirst({
        where: { billerId, billId, status: 'succeeded' },
        orderBy: [{ updatedAt: 'desc' }, { createdAt: 'desc' }, { id: 'desc' }],
      }),
    );
    return row ? toPayment(row) : null;
  }

  async recordPaymentEvent(event: PaymentEventRecord): Promise<boolean> {
    try {
      await this.run((db) =>
        db.paymentEvent.create({
          data: {
            id: randomUUID(),
            channelId: event.channelId,
            eventId: event.eventId,
            paymentId: event.paymentId,
            source: event.source,
            status: event.status,
            amountMinor: event.amountMinor,
            occurredAt: event.occurredAt,
            outcome: event.outcome,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async paymentEvents(paymentId: string): Promise<PaymentEventRecord[]> {
    const rows = await this.run((db) =>
      db.paymentEvent.findMany({
        where: { paymentId },
        orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
      }),
    );
    return rows.map(toPaymentEvent);
  }

  // ---------------------------------------------------------------------------------------------
  // Audit

  async audit(entry: AuditEntry): Promise<void> {
    await this.run((db) =>
      db.auditLog.create({
        data: {
          actor: entry.actor,
          entity: entry.entity,
          entityId: entry.entityId,
          action: entry.action,
          fromState: entry.fromState ?? null,
          toState: entry.toState ?? null,
          detail: entry.detail === undefined || entry.detail === null ? null : toJson(entry.detail),
        },
      }),
    );
  }

  async auditTrail(entity: string, entityId: string): Promise<AuditRecord[]> {
    const rows = await this.run((db) =>
      db.auditLog.findMany({ where: { entity, entityId }, orderBy: { id: 'asc' } }),
    );
    return rows.map(toAudit);
  }

  // ---------------------------------------------------------------------------------------------
  // Outbox

  async enqueue(item: NewOutboxItem): Promise<OutboxItemRecord | null> {
    try {
      const row = await this.run((db) =>
        db.outboxItem.create({
          data: {
            kind: item.kind,
            lane: item.lane,
            dedupeKey: item.dedupeKey ?? null,
            identityId: item.identityId ?? null,
            channel: item.channel ?? null,
            address: item.address ?? null,
            payload: toJson(item.payload),
            broadcastId: item.broadcastId ?? null,
            urgent: item.urgent ?? false,
            nextAttemptAt: item.nextAttemptAt,
            ...(item.createdAt ? { createdAt: item.createdAt } : {}),
            ...(item.withheld
              ? {
                  status: 'skipped',
                  lastError: item.withheld,
                  doneAt: item.createdAt ?? item.nextAttemptAt ?? new Date(),
                }
              : {}),
          },
        }),
      );
      return toOutbox(row);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async claimOutbox(
    owner: string,
    now: Date,
    leaseMs: number,
    limit: number,
    filter?: OutboxClaimFilter,
  ): Promise<OutboxItemRecord[]> {
    if (limit <= 0) return [];
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const lanes = LANES.filter((l) => !filter || filter.lanes.includes(l));
    if (this.d.name === 'postgresql' && this.root) {
      return this.claimOutboxSkipLocked(owner, now, leaseUntil, limit, lanes, filter);
    }
    return this.withTx(async (db) => {
      const claimed: OutboxItemRecord[] = [];
      for (const lane of lanes) {
        for (const due of dueClasses(lane, now, filter)) {
          if (claimed.length >= limit) return claimed;
          const candidates = await db.outboxItem.findMany({
            where: due,
            orderBy: claimOrder(due).map((column) => ({ [column]: 'asc' as const })),
            take: limit - claimed.length,
            select: { id: true },
          });
          for (const { id } of candidates) {
            // Guarded again: an item leased by someone else since the read is not taken.
            const rows = await db.outboxItem.updateManyAndReturn({
              where: { id, ...due },
              data: { status: 'leased', leaseOwner: owner, leaseUntil, attempts: { increment: 1 } },
            });
            const row = rows[0];
            if (row) claimed.push(toOutbox(row));
          }
        }
      }
      return claimed;
    });
  }

  /**
   * PostgreSQL, several instances: each class of due rows is leased in one statement, skipping
   * rows another instance is leasing at this moment (FOR UPDATE SKIP LOCKED), so instances
   * never wait for each other nor take the same row.
   */
  private async claimOutboxSkipLocked(
    owner: string,
    now: Date,
    leaseUntil: Date,
    limit: number,
    lanes: readonly OutboxLane[],
    filter: OutboxClaimFilter | undefined,
  ): Promise<OutboxItemRecord[]> {
    const claimed: OutboxItemRecord[] = [];
    const t = this.d.timeParam;
    for (const lane of lanes) {
      for (const due of dueClasses(lane, now, filter)) {
        if (claimed.length >= limit) return claimed;
        const urgent = typeof due.urgent === 'boolean' ? due.urgent : null;
        const condition =
          due.status === 'leased'
            ? `"status" = 'leased' AND "leaseUntil" < ${t}`
            : `"status" = 'queued' AND "nextAttemptAt" <= ${t}`;
        const order = claimOrder(due)
          .map((column) => `"${column}"`)
          .join(', ');
        const rows = await this.run((db) =>
          db.$queryRawUnsafe<OutboxItem[]>(
            this.d.sql(
              `UPDATE "OutboxItem" SET "status" = 'leased', "leaseOwner" = ?, "leaseUntil" = ${t},
                 "attempts" = "attempts" + 1
               WHERE "id" IN (
                 SELECT "id" FROM "OutboxItem"
                 WHERE "lane" = ? AND ${condition}
                   ${urgent === null ? '' : `AND "urgent" = ${urgent ? 'TRUE' : 'FALSE'}`}
                 ORDER BY ${order} LIMIT CAST(? AS INTEGER)
                 FOR UPDATE SKIP LOCKED)
               RETURNING *`,
            ),
            owner,
            this.d.time(leaseUntil),
            lane,
            this.d.time(now),
            limit - claimed.length,
          ),
        );
        // RETURNING keeps no order: put the rows back in the claim's.
        const columns = claimOrder(due);
        const key = (row: OutboxItem) => columns.map((c) => (c === 'id' ? row.id : +(row[c] ?? 0)));
        rows.sort((a, b) => {
          const [ka, kb] = [key(a), key(b)];
          const i = ka.findIndex((v, n) => v !== kb[n]);
          return i < 0 ? 0 : ka[i]! - kb[i]!;
        });
        claimed.push(...rows.map(toOutbox));
      }
    }
    return claimed;
  }

  async finishOutbox(
    id: number,
    owner: string,
    outcome: OutboxOutcome,
    now: Date,
  ): Promise<boolean> {
    let data: Prisma.OutboxItemUpdateManyMutationInput;
    switch (outcome.status) {
      case 'sent':
      case 'done':
        data = {
          status: outcome.status,
          doneAt: now,
          text: outcome.text,
          providerMessageId: outcome.providerMessageId,
          leaseOwner: null,
          leaseUntil: null,
          // A new message: receipts of an earlier try (sent again after a failure) are past.
          ...(outcome.status === 'sent' ? { deliveryStatus: null } : {}),
        };
        break;
      case 'retry':
        data = {
          status: 'queued',
          nextAttemptAt: outcome.nextAttemptAt,
          lastError: outcome.error,
          leaseOwner: null,
          leaseUntil: null,
        };
        break;
      case 'deferred':
        // Not a failure: the claim's attempt is given back.
        data = {
          status: 'queued',
          nextAttemptAt: outcome.until,
          attempts: { decrement: 1 },
          leaseOwner: null,
          leaseUntil: null,
        };
        break;
      case 'failed':
      case 'skipped':
      case 'cancelled':
        data = {
          status: outcome.status,
          lastError: outcome.error,
          doneAt: now,
          leaseOwner: null,
          leaseUntil: null,
        };
        break;
    }
    const where = { id, status: 'leased', leaseOwner: owner };
    const parts =
      outcome.status === 'sent' || outcome.status === 'retry' ? (outcome.parts ?? []) : [];
    const recorded = [
      ...parts.map((p) => p.providerMessageId),
      outcome.status === 'sent' ? (outcome.providerMessageId ?? null) : null,
    ];
    // A sent item's delivery is what the receipts of its messages say: those of parts recorded
    // on an earlier try (even when this try sent none of them again), and those that came
    // before their message was recorded here.
    const count =
      (outcome.status === 'sent' && outcome.receipts === true) || parts.length > 0
        ? await this.withTx(async (db) => {
            await this.lockProviderIds(db, recorded);
            const updated = await db.outboxItem.updateMany({ where, data });
            if (updated.count === 0) return 0;
            await this.saveParts(db, id, parts);
            await this.settleDelivery(db, id, now);
            return updated.count;
          })
        : (await this.run((db) => db.outboxItem.updateMany({ where, data }))).count;
    if (count > 0 && data.status === 'queued') await this.cancelIfBroadcastCancelled(id, now);
    return count > 0;
  }

  /** Records the parts sent this time: new messages, whose receipts start afresh. */
  private async saveParts(db: Db, id: number, parts: SentPart[]): Promise<void> {
    for (const { part, providerMessageId, resends = 0 } of parts) {
      await db.smsPart.upsert({
        where: { outboxItemId_part: { outboxItemId: id, part } },
        create: { outboxItemId: id, part, providerMessageId, resends, deliveryStatus: null },
        update: { providerMessageId, resends, deliveryStatus: null },
      });
    }
  }

  /**
   * Brings an item's delivery up to date with the receipts kept for its messages as recorded
   * now (its parts' provider ids, else its own) and does what that calls for (see
   * recordSmsStatus). A receipt counts by what it says, not by when it came or how often it
   * was applied: settling again changes nothing. Inside a transaction that holds the row.
   */
  private async settleDelivery(
    db: Db,
    id: number,
    now: Date,
  ): Promise<{ item: OutboxItem; ids: string[]; requeued: boolean } | null> {
    const row = await db.outboxItem.findUnique({ where: { id } });
    if (!row) return null;
    const parts = await db.smsPart.findMany({
      where: { outboxItemId: id },
      orderBy: { part: 'asc' },
    });
    const ids = (
      parts.length > 0 ? parts.map((p) => p.providerMessageId) : [row.providerMessageId]
    ).filter((pid): pid is string => pid !== null);
    const receipts =
      ids.length === 0
        ? []
        : await db.smsStatusEvent.findMany({
            where: { providerMessageId: { in: ids } },
            orderBy: { recordedAt: 'asc' },
            select: { providerMessageId: true, state: true, failure: true, failureError: true },
          });
    // Delivery never moves backwards: a late or replayed "queued"/"sent" leaves "sent",
    // "failed" or "delivered" as it is, and nothing undoes "delivered".
    const furthest = (pid: string | null, from: string | null): string | null =>
      receipts
        .filter((r) => r.providerMessageId === pid)
        .reduce(
          (state, r) => (deliveryRank(r.state) > deliveryRank(state) ? r.state : state),
          from,
        );
    let delivery: string | null;
    const failed: string[] = [];
    if (parts.length > 0) {
      const states: Array<string | null> = [];
      for (const p of parts) {
        const state = furthest(p.providerMessageId, p.deliveryStatus);
        if (state !== p.deliveryStatus) {
          await db.smsPart.updateMany({
            where: { id: p.id, deliveryStatus: p.deliveryStatus },
            data: { deliveryStatus: state },
          });
        }
        if (state === 'failed' && p.providerMessageId !== null) failed.push(p.providerMessageId);
        states.push(state);
      }
      delivery = partsDelivery(states);
    } else {
      delivery = furthest(row.providerMessageId, row.deliveryStatus);
      if (delivery === 'failed' && row.providerMessageId !== null)
        failed.push(row.providerMessageId);
    }
    // A temporary failure put the item back in the queue, and before it went out again its
    // message turns out delivered after all (receipts out of order): it is not sent twice.
    const undo = row.status === 'queued' && row.redeliveries > 0 && delivery === 'delivered';
    // No service, the SIM's sending limit, a full queue at the carrier: the message goes again,
    // with the backoff and within the tries any temporary failure gets. Only a sent item that
    // is failed now (a late failure of a message delivered changes nothing), and not when one
    // of its failures is permanent (the number is wrong, or unsubscribed).
    const failures = receipts.filter(
      (r) => r.state === 'failed' && failed.includes(r.providerMessageId),
    );
    const again =
      row.status === 'sent' &&
      delivery === 'failed' &&
      failures.length > 0 &&
      failures.every((f) => f.failure === 'temporary')
        ? nextRetryAt(now, row.attempts)
        : null;
    const data: Prisma.OutboxItemUpdateManyMutationInput = {
      ...(delivery !== row.deliveryStatus ? { deliveryStatus: delivery } : {}),
      ...(undo ? { status: 'sent', redeliveries: { decrement: 1 } } : {}),
      ...(again
        ? {
            status: 'queued',
            nextAttemptAt: again,
            lastError: `${failures[failures.length - 1]?.failureError ?? 'not delivered'} (delivery receipt)`,
            redeliveries: { increment: 1 },
          }
        : {}),
    };
    if (Object.keys(data).length === 0) return { item: row, ids, requeued: false };
    // Only over the row as read: what was decided here holds for that row alone.
    const [updated] = await db.outboxItem.updateManyAndReturn({
      where: {
        id,
        status: row.status,
        redeliveries: row.redeliveries,
        deliveryStatus: row.deliveryStatus,
      },
      data,
    });
    if (!updated) return { item: row, ids, requeued: false };
    if (!again) return { item: updated, ids, requeued: false };
    await db.$executeRawUnsafe(...this.cancelIfBroadcastCancelledSql(id, now));
    const current = (await db.outboxItem.findUnique({ where: { id } })) ?? updated;
    return { item: current, ids, requeued: current.status === 'queued' };
  }

  /**
   * Inside a transaction: holds the outbox row until the transaction ends, so that writers of
   * that row (receipts, the dispatcher's finish, a claim) wait for this one and then read what
   * it wrote. SQLite needs nothing: its transactions already run one at a time.
   */
  private async lockOutboxRow(db: Db, id: number): Promise<void> {
    const clause = this.d.forUpdate;
    if (!clause) return;
    await db.$queryRawUnsafe(
      this.d.sql(`SELECT "id" FROM "OutboxItem" WHERE "id" = ? ${clause}`),
      id,
    );
  }

  /**
   * Inside a transaction, before any row lock: takes turns with every other transaction that
   * records or receives these provider ids. A receipt and the recording of its message's id
   * may otherwise run side by side, each missing the other's uncommitted write; this way the
   * second sees the first's. Row locks come after, always in this order, so none waits in a
   * circle.
   */
  private async lockProviderIds(db: Db, ids: ReadonlyArray<string | null>): Promise<void> {
    const statement = this.d.lockKey;
    if (!statement) return;
    const keys = [...new Set(ids.filter((pid): pid is string => pid !== null))].sort();
    for (const key of keys) {
      await db.$executeRawUnsafe(this.d.sql(statement), `sms-message:${key}`);
    }
  }

  /**
   * A broadcast cancelled while this row was in flight could not cancel it (the cancel takes
   * queued rows only); once the row is queued again it is cancelled instead of being tried
   * again. Whichever of the two comes second sees the other's write, so the row never stays
   * queued.
   */
  private async cancelIfBroadcastCancelled(id: number, now: Date): Promise<void> {
    await this.run((db) => db.$executeRawUnsafe(...this.cancelIfBroadcastCancelledSql(id, now)));
  }

  private cancelIfBroadcastCancelledSql(id: number, now: Date): [string, ...unknown[]] {
    return [
      this.d.sql(
        `UPDATE "OutboxItem" SET "status" = 'cancelled', "doneAt" = ${this.d.timeParam},
           "lastError" = 'broadcast cancelled'
         WHERE "id" = ? AND "status" = 'queued' AND "broadcastId" IN (
           SELECT "id" FROM "Broadcast" WHERE "status" = 'cancelled')`,
      ),
      this.d.time(now),
      id,
    ];
  }

  async recordSentPart(id: number, owner: string, part: SentPart, now: Date): Promise<boolean> {
    return this.withTx(async (db) => {
      await this.lockProviderIds(db, [part.providerMessageId]);
      await this.lockOutboxRow(db, id);
      const held = await db.outboxItem.count({
        where: { id, status: 'leased', leaseOwner: owner },
      });
      if (held === 0) return false;
      await this.saveParts(db, id, [part]);
      await this.settleDelivery(db, id, now);
      return true;
    });
  }

  async sentParts(outboxItemId: number): Promise<SentPartRecord[]> {
    return this.run((db) =>
      db.smsPart.findMany({
        where: { outboxItemId },
        orderBy: { part: 'asc' },
        select: { part: true, providerMessageId: true, resends: true, deliveryStatus: true },
      }),
    );
  }

  async renewOutboxLeases(owner: string, ids: readonly number[], until: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const { count } = await this.run((db) =>
      db.outboxItem.updateMany({
        where: { id: { in: [...ids] }, status: 'leased', leaseOwner: owner },
        data: { leaseUntil: until },
      }),
    );
    return count;
  }

  async getOutboxItem(id: number): Promise<OutboxItemRecord | null> {
    const row = await this.run((db) => db.outboxItem.findUnique({ where: { id } }));
    return row ? toOutbox(row) : null;
  }

  async nextOutboxDue(filter?: OutboxClaimFilter): Promise<Date | null> {
    const now = new Date(0);
    const lanes = LANES.filter((l) => !filter || filter.lanes.includes(l));
    // The earliest of each class a claim takes (see dueClasses), each an ordered index probe.
    const times = await this.run(async (db) => {
      const found: Date[] = [];
      for (const lane of lanes) {
        for (const due of dueClasses(lane, now, filter)) {
          const leased = due.status === 'leased';
          const { leaseUntil: _until, nextAttemptAt: _next, ...scope } = due;
          const row = await db.outboxItem.findFirst({
            where: scope,
            orderBy: leased ? { leaseUntil: 'asc' } : { nextAttemptAt: 'asc' },
            select: { leaseUntil: true, nextAttemptAt: true },
          });
          const at = leased ? row?.leaseUntil : row?.nextAttemptAt;
          if (at) found.push(at);
        }
      }
      return found;
    });
    return times.reduce<Date | null>((a, b) => (a && a.getTime() <= b.getTime() ? a : b), null);
  }

  async recentReplies(query: Parameters<Store['recentReplies']>[0]): Promise<RecentReplies> {
    return this.run((db) => recentReplies(db, this.d, query));
  }

  async sentMessages(
    identityId: string,
    afterId: number,
    limit: number,
  ): Promise<OutboxItemRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.run((db) =>
      db.outboxItem.findMany({
        // Replies, receipts, reminders and broadcasts: everything the person was sent.
        where: {
          kind: { in: ['message', 'reminder', 'broadcast'] },
          status: 'sent',
          identityId,
          id: { gt: afterId },
        },
        orderBy: { id: 'asc' },
        take: limit,
      }),
    );
    return rows.map(toOutbox);
  }

  // ---------------------------------------------------------------------------------------------
  // Watches

  async addWatch(watch: Omit<WatchRecord, 'id'>): Promise<boolean> {
    try {
      await this.run((db) =>
        db.watch.create({
          data: {
            id: randomUUID(),
            kind: watch.kind,
            target: watch.target,
            subscriberId: watch.subscriberId,
            identityId: watch.identityId,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async recordTelegramUpdate(updateId: number, payload: string): Promise<boolean> {
    try {
      await this.run((db) => db.telegramUpdate.create({ data: { updateId, payload } }));
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  claimTelegramGroupNotice(chatId: string, at: Date): Promise<boolean> {
    return this.run((db) => claimGroupNotice(db, this.d, chatId, at));
  }

  async unprocessedTelegramUpdates(limit: number): Promise<TelegramUpdateRecord[]> {
    return this.run((db) =>
      db.telegramUpdate.findMany({
        where: { processedAt: null },
        orderBy: { updateId: 'asc' },
        take: limit,
        select: { updateId: true, payload: true, receivedAt: true },
      }),
    );
  }

  async markTelegramUpdateProcessed(
    updateId: number,
    at: Date,
    error: string | null = null,
  ): Promise<void> {
    await this.run((db) =>
      db.telegramUpdate.update({ where: { updateId }, data: { processedAt: at, error } }),
    );
  }

  async recordSmsInbound(message: NewSmsInbound): Promise<boolean> {
    try {
      await this.run((db) => db.smsInbound.create({ data: message }));
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async unprocessedSmsInbound(limit: number): Promise<SmsInboundRecord[]> {
    return this.run((db) =>
      db.smsInbound.findMany({
        where: { processedAt: null },
        orderBy: { id: 'asc' },
        take: limit,
        select: {
          id: true,
          gateway: true,
          dedupeKey: true,
          fromAddress: true,
          toAddress: true,
          text: true,
          receivedAt: true,
          recordedAt: true,
          keyword: true,
        },
      }),
    );
  }

  async markSmsInboundProcessed(id: number, at: Date, error: string | null = null): Promise<void> {
    await this.run((db) =>
      db.smsInbound.update({ where: { id }, data: { processedAt: at, error } }),
    );
  }

  async recordSmsStatus(
    event: SmsStatusEventRecord,
    now: Date,
  ): Promise<{ fresh: boolean; item: OutboxItemRecord | null; requeued: boolean }> {
    const none = { item: null, requeued: false };
    return this.withTx(async (db, store) => {
      // Takes turns with the recording of this id (recordSentPart, finishOutbox), so that a
      // receipt coming just as its message is recorded is applied by one of the two.
      await this.lockProviderIds(db, [event.providerMessageId]);
      // A receipt recorded before (a gateway's retry) is a unique violation, answered as not
      // fresh (under a savepoint on PostgreSQL).
      try {
        await store.run((tx) => tx.smsStatusEvent.create({ data: event }));
      } catch (error) {
        if (isUniqueViolation(error)) return { fresh: false, ...none };
        throw error;
      }
      const itemId = await this.receiptTarget(db, event.providerMessageId);
      // Not recorded yet: kept, and applied when it is.
      if (itemId === null) return { fresh: true, ...none };
      // From here on the receipts of one item (one per part, replays) and the dispatcher's
      // writes to it take turns, each reading what the one before wrote: two parts' receipts
      // read and written side by side left the item short of "delivered", and an undo could
      // overwrite a lease taken after it read the row.
      await this.lockOutboxRow(db, itemId);
      const settled = await this.settleDelivery(db, itemId, now);
      // The message was replaced by a resend while this waited: its receipt is past.
      if (!settled?.ids.includes(event.providerMessageId)) return { fresh: true, ...none };
      return { fresh: true, item: toOutbox(settled.item), requeued: settled.requeued };
    });
  }

  /** The outbox item a provider message id belongs to (one of its parts', or its own). */
  private async receiptTarget(db: Db, providerMessageId: string): Promise<number | null> {
    const part = await db.smsPart.findFirst({
      where: { providerMessageId },
      orderBy: { id: 'desc' },
      select: { outboxItemId: true },
    });
    if (part) return part.outboxItemId;
    const row = await db.outboxItem.findFirst({
      where: { providerMessageId },
      orderBy: { id: 'desc' },
      select: { id: true },
    });
    return row?.id ?? null;
  }

  async takeWatches(kind: WatchKind, target: string): Promise<WatchRecord[]> {
    return this.withTx(async (db) => {
      const rows = await db.watch.findMany({
        where: { kind, target },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      if (rows.length > 0) {
        await db.watch.deleteMany({ where: { id: { in: rows.map((row) => row.id) } } });
      }
      return rows.map(toWatch);
    });
  }

  async hasWatches(kind: WatchKind, target: string): Promise<boolean> {
    const row = await this.run((db) =>
      db.watch.findFirst({ where: { kind, target }, select: { id: true } }),
    );
    return row !== null;
  }

  async watchTargets(kind: WatchKind): Promise<string[]> {
    const rows = await this.run((db) =>
      db.watch.findMany({ where: { kind }, distinct: ['target'], select: { target: true } }),
    );
    return rows.map((r) => r.target);
  }

  // ---------------------------------------------------------------------------------------------
  // Instances

  async heartbeat(instanceId: string, now: Date, staleBefore: Date): Promise<number> {
    return this.withTx(async (db) => {
      await db.instance.upsert({
        where: { id: instanceId },
        create: { id: instanceId, startedAt: now, seenAt: now },
        update: { seenAt: now },
      });
      const gone = await db.instance.findMany({
        where: { seenAt: { lt: staleBefore } },
        select: { id: true },
      });
      if (gone.length > 0) {
        const ids = gone.map((g) => g.id);
        await db.instance.deleteMany({ where: { id: { in: ids } } });
        // What a dead instance held goes back to the queue now, not when its lease runs out.
        await db.outboxItem.updateMany({
          where: { status: 'leased', leaseOwner: { in: ids } },
          data: { status: 'queued', leaseOwner: null, leaseUntil: null },
        });
      }
      return db.instance.count();
    });
  }

  async leaveFleet(instanceId: string): Promise<void> {
    await this.run((db) => db.instance.deleteMany({ where: { id: instanceId } }));
  }

  // ---------------------------------------------------------------------------------------------
  // Scheduled jobs

  async claimJobRun(
    job: string,
    slot: string,
    owner: string,
    now: Date,
    staleMs: number,
  ): Promise<boolean> {
    // One statement: insert the run, or take over a stale unfinished one.
    const count = await this.run((db) =>
      db.$executeRawUnsafe(
        this.d.sql(
          `INSERT INTO "JobRun" ("job", "slot", "owner", "startedAt") VALUES (?, ?, ?, ${this.d.timeParam})
           ON CONFLICT ("job", "slot") DO UPDATE SET "owner" = excluded."owner", "startedAt" = excluded."startedAt"
           WHERE "JobRun"."finishedAt" IS NULL AND "JobRun"."startedAt" < ${this.d.timeParam}`,
        ),
        job,
        slot,
        owner,
        this.d.time(now),
        this.d.time(new Date(now.getTime() - staleMs)),
      ),
    );
    return count > 0;
  }

  async finishJobRun(
    job: string,
    slot: string,
    owner: string,
    now: Date,
    result: unknown,
  ): Promise<void> {
    await this.run((db) =>
      db.jobRun.updateMany({
        where: { job, slot, owner },
        data: { finishedAt: now, result: toJson(result) },
      }),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Reminders

  async reminderRefreshCandidates(query: {
    dueDates: string[];
    checkedBefore: Date;
    staleBefore: Date;
    limit: number;
  }): Promise<Array<{ billerId: string; account: string }>> {
    if (query.limit <= 0) return [];
    const dates = query.dueDates.length > 0 ? query.dueDates : [''];
    const marks = dates.map(() => '?').join(', ');
    return this.run((db) =>
      db.$queryRawUnsafe<Array<{ billerId: string; account: string }>>(
        this.d.sql(
          `SELECT DISTINCT f."billerId", f."account"
           FROM "FollowedAccount" f
           JOIN "Subscriber" s ON s."id" = f."subscriberId" AND s."remindersEnabled" = TRUE
           LEFT JOIN "BillAccount" a ON a."billerId" = f."billerId" AND a."account" = f."account"
           WHERE a."billerId" IS NULL
              OR a."fetchedAt" < ${this.d.timeParam}
              OR (a."fetchedAt" < ${this.d.timeParam} AND EXISTS (
                   SELECT 1 FROM "Bill" b
                   WHERE b."billerId" = f."billerId" AND b."account" = f."account"
                     AND b."status" = 'unpaid' AND b."dueDate" IN (${marks})))
           LIMIT CAST(? AS INTEGER)`,
        ),
        this.d.time(query.staleBefore),
        this.d.time(query.checkedBefore),
        ...dates,
        query.limit,
      ),
    );
  }

  async planReminders(
    plan: { slots: Array<{ dueDate: string; offset: number }>; now: Date },
    reach: BulkReach = {},
  ): Promise<number> {
    if (plan.slots.length === 0) return 0;
    // The driver binds every JS number as a REAL: cast, or the key would read `:-3.0:`.
    const values = plan.slots.map(() => '(?, CAST(? AS INTEGER))').join(', ');
    const params = plan.slots.flatMap((s) => [s.dueDate, s.offset]);
    const now = this.d.time(plan.now);
    // Set-based: one statement however many bills (100,000 in about a second). The preferred
    // identity: Telegram (free, buttons), then SMS, then the sandbox; never an opted-out one.
    const leftOut = reach.includeSandbox === false ? SANDBOX_CHANNELS : [];
    const sandbox = leftOut.length
      ? ` AND i."channel" NOT IN (${leftOut.map(() => '?').join(', ')})`
      : '';
    return this.run((db) =>
      db.$executeRawUnsafe(
        this.d.sql(`WITH slot("dueDate", "offset") AS (VALUES ${values}),
         due AS (
           SELECT b."billerId", b."billId", b."account", slot."offset", f."subscriberId",
             (SELECT i."id" FROM "Identity" i
               WHERE i."subscriberId" = f."subscriberId" AND i."optedOut" = FALSE${sandbox}
               ORDER BY CASE i."channel" WHEN 'telegram' THEN 0 WHEN 'sms' THEN 1
                 WHEN 'sandbox-telegram' THEN 2 ELSE 3 END, i."id"
               LIMIT 1) AS "identityId"
           FROM slot
           JOIN "Bill" b ON b."dueDate" = slot."dueDate" AND b."status" = 'unpaid'
           JOIN "FollowedAccount" f ON f."billerId" = b."billerId" AND f."account" = b."account"
           JOIN "Subscriber" s ON s."id" = f."subscriberId" AND s."remindersEnabled" = TRUE
           WHERE NOT EXISTS (
             SELECT 1 FROM "Payment" p
             WHERE p."billerId" = b."billerId" AND p."billId" = b."billId"
               AND p."status" IN ('created', 'pending', 'held', 'succeeded'))
         )
         INSERT INTO "OutboxItem" ("kind", "lane", "dedupeKey", "identityId", "payload",
           "status", "attempts", "nextAttemptAt", "urgent", "createdAt")
         SELECT 'reminder', 'bulk',
           'rem:' || due."billerId" || ':' || due."billId" || ':' || due."offset" || ':' || due."subscriberId",
           due."identityId",
           ${this.d.jsonObject({
             billerId: 'due."billerId"',
             billId: 'due."billId"',
             account: 'due."account"',
             offset: 'due."offset"',
           })},
           'queued', 0, ${this.d.timeParam}, FALSE, ${this.d.timeParam}
         FROM due WHERE due."identityId" IS NOT NULL
         ON CONFLICT ("dedupeKey") DO NOTHING`),
        ...params,
        ...leftOut,
        now,
        now,
      ),
    );
  }

  async getBill(billerId: string, billId: string): Promise<BillRecord | null> {
    const row = await this.run((db) =>
      db.bill.findUnique({ where: { billerId_billId: { billerId, billId } } }),
    );
    return row ? toBill(row) : null;
  }

  async activePaymentForBill(billerId: string, billId: string): Promise<PaymentRecord | null> {
    const row = await this.run((db) =>
      db.payment.findFirst({
        where: { billerId, billId, status: { in: ['created', 'pending', 'held', 'succeeded'] } },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
    );
    return row ? toPayment(row) : null;
  }

  async isFollowing(subscriberId: string, billerId: string, account: string): Promise<boolean> {
    const row = await this.run((db) =>
      db.followedAccount.findUnique({
        where: { subscriberId_billerId_account: { subscriberId, billerId, account } },
        select: { id: true },
      }),
    );
    return row !== null;
  }

  // ---------------------------------------------------------------------------------------------
  // Broadcasts

  async createBroadcast(b: NewBroadcast, now: Date): Promise<BroadcastRecord> {
    const row = await this.run((db) =>
      db.broadcast.create({
        data: {
          id: b.id,
          textAr: b.text.ar,
          textEn: b.text.en,
          audience: toJson(b.audience),
          channels: toJson(b.channels),
          urgent: b.urgent,
          status: 'planning',
          recipients: b.recipients,
          smsPartsPerMessage: b.smsPartsPerMessage,
          smsPartsTotal: b.smsPartsTotal,
          createdBy: b.createdBy,
          createdAt: now,
          updatedAt: now,
        },
      }),
    );
    return toBroadcast(row);
  }

  async getBroadcast(id: string): Promise<BroadcastRecord | null> {
    const row = await this.run((db) => db.broadcast.findUnique({ where: { id } }));
    return row ? toBroadcast(row) : null;
  }

  async listBroadcasts(limit: number): Promise<BroadcastRecord[]> {
    const rows = await this.run((db) =>
      db.broadcast.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit }),
    );
    return rows.map(toBroadcast);
  }

  async broadcastsPlanning(): Promise<BroadcastRecord[]> {
    const rows = await this.run((db) =>
      db.broadcast.findMany({ where: { status: 'planning' }, orderBy: { createdAt: 'asc' } }),
    );
    return rows.map(toBroadcast);
  }

  async countAudience(
    audience: BroadcastAudience,
    channels: BroadcastChannel[],
    reach: BulkReach = {},
  ): Promise<AudienceGroup[]> {
    const where = audienceWhere(audience, channels, reach);
    const rows = await this.run((db) =>
      db.$queryRawUnsafe<Array<{ channel: string; language: string; count: number | bigint }>>(
        this.d.sql(`SELECT i."channel" AS "channel", s."language" AS "language", COUNT(*) AS "count"
         FROM "Identity" i JOIN "Subscriber" s ON s."id" = i."subscriberId"
         WHERE ${where.sql}
         GROUP BY i."channel", s."language"`),
        ...where.params,
      ),
    );
    return rows.map((r) => ({
      channel: r.channel as IdentityChannel,
      language: r.language as Language,
      count: Number(r.count),
    }));
  }

  async planBroadcastBatch(
    id: string,
    batchSize: number,
    now: Date,
    reach: BulkReach = {},
  ): Promise<{ written: number; done: boolean }> {
    return this.withTx(async (db) => {
      const row = await db.broadcast.findUnique({ where: { id } });
      if (!row || row.status !== 'planning') return { written: 0, done: true };
      const broadcast = toBroadcast(row);
      const where = audienceWhere(broadcast.audience, broadcast.channels, reach);
      const cursor = broadcast.planCursor ?? '';
      // A batch is the next `batchSize` identities in primary-key order, whoever they are;
      // the audience filters inside it. Walking the key alone keeps each batch's cost to its
      // own rows (filtering first made every batch scan and sort the whole channel: quadratic).
      const bound = await db.$queryRawUnsafe<Array<{ id: string }>>(
        this.d.sql(
          `SELECT "id" FROM "Identity" WHERE "id" > ? ORDER BY "id" LIMIT 1 OFFSET CAST(? AS INTEGER)`,
        ),
        cursor,
        batchSize - 1,
      );
      const upper = bound[0]?.id ?? null;
      // The range drives the join (CROSS JOIN fixes SQLite's join order; PostgreSQL plans by
      // its statistics), so the channel index is never scanned whole.
      const written = await db.$executeRawUnsafe(
        this.d
          .sql(`INSERT INTO "OutboxItem" ("kind", "lane", "dedupeKey", "identityId", "channel", "payload",
           "status", "attempts", "nextAttemptAt", "broadcastId", "urgent", "createdAt")
         SELECT 'broadcast', 'bulk', 'bc:' || ? || ':' || i."id", i."id", i."channel", '{}',
           'queued', 0, ${this.d.timeParam}, ?, ${broadcast.urgent ? 'TRUE' : 'FALSE'}, ${this.d.timeParam}
         FROM (SELECT "id" AS "rid" FROM "Identity" WHERE "id" > ?${upper === null ? '' : ' AND "id" <= ?'}) r
           CROSS JOIN "Identity" i CROSS JOIN "Subscriber" s
         WHERE i."id" = r."rid" AND s."id" = i."subscriberId" AND ${where.sql}
         ON CONFLICT ("dedupeKey") DO NOTHING`),
        id,
        this.d.time(now),
        id,
        this.d.time(now),
        cursor,
        ...(upper === null ? [] : [upper]),
        ...where.params,
      );
      if (upper === null) {
        // The last batch: every identity has been looked at.
        const recipients = await db.outboxItem.count({ where: { broadcastId: id } });
        await db.broadcast.update({
          where: { id },
          data: { status: 'sending', recipients, updatedAt: now },
        });
        return { written, done: true };
      }
      await db.broadcast.update({
        where: { id },
        data: { planCursor: upper, updatedAt: now },
      });
      return { written, done: false };
    });
  }

  async broadcastCounts(id: string): Promise<BroadcastCounts> {
    return this.run((db) => broadcastCounts(db, this.d, id));
  }

  async setBroadcastStatus(
    id: string,
    from: BroadcastStatus[],
    to: BroadcastStatus,
    now: Date,
  ): Promise<boolean> {
    const { count } = await this.run((db) =>
      db.broadcast.updateMany({
        where: { id, status: { in: from } },
        data: {
          status: to,
          updatedAt: now,
          ...(to === 'cancelled' ? { cancelledAt: now } : {}),
          ...(to === 'done' || to === 'cancelled' ? { finishedAt: now } : {}),
        },
      }),
    );
    return count > 0;
  }

  async cancelBroadcastItems(id: string, now: Date): Promise<number> {
    const { count } = await this.run((db) =>
      db.outboxItem.updateMany({
        where: { broadcastId: id, status: 'queued' },
        data: { status: 'cancelled', doneAt: now, lastError: 'broadcast cancelled' },
      }),
    );
    return count;
  }
}

// -----------------------------------------------------------------------------------------------
// Rows → records

function toSubscriber(row: Subscriber): SubscriberRecord {
  return {
    id: row.id,
    language: row.language as Language,
    governorate: row.governorate,
    remindersEnabled: row.remindersEnabled,
    showOldPounds: row.showOldPounds,
    lastPaymentChannel: row.lastPaymentChannel,
    walletNumber: row.walletNumber,
    walletVerified: row.walletVerified,
    pending: row.pending,
    pendingAt: row.pendingAt,
  };
}

function toIdentity(row: Identity): IdentityRecord {
  return {
    id: row.id,
    subscriberId: row.subscriberId,
    channel: row.channel as IdentityChannel,
    address: row.address,
    optedOut: row.optedOut,
  };
}

function toFollow(row: FollowedAccount): FollowRecord {
  return {
    subscriberId: row.subscriberId,
    billerId: row.billerId,
    account: row.account,
    createdAt: row.createdAt,
  };
}

function toBill(row: Bill): BillRecord {
  return {
    billerId: row.billerId,
    billId: row.billId,
    account: row.account,
    period: row.period,
    amountMinor: qirshFromColumn(row.amountMinor),
    currency: row.currency,
    dueDate: row.dueDate,
    status: row.status as BillStatus,
    fetchedAt: row.fetchedAt,
  };
}

function toSnapshot(row: BillAccount, bills: Bill[]): AccountSnapshot {
  return {
    billerId: row.billerId,
    account: row.account,
    holder: row.holder,
    governorate: row.governorate,
    fetchedAt: row.fetchedAt,
    bills: bills.map(toBill),
  };
}

function toCoverage(row: Coverage): CoverageRecord {
  return {
    billerId: row.billerId,
    governorate: row.governorate,
    available: row.available,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
  };
}

function toPayment(row: Payment): PaymentRecord {
  return {
    id: row.id,
    subscriberId: row.subscriberId,
    identityId: row.identityId,
    billerId: row.billerId,
    account: row.account,
    billId: row.billId,
    amountMinor: qirshFromColumn(row.amountMinor),
    currency: row.currency,
    channelId: row.channelId,
    payerAddress: row.payerAddress,
    status: row.status as PaymentStatus,
    heldReason: row.heldReason as HeldReason | null,
    openKey: row.openKey,
    providerRef: row.providerRef,
    instructions: row.instructions,
    confirmedAmountMinor:
      row.confirmedAmountMinor === null ? null : qirshFromColumn(row.confirmedAmountMinor),
    deadlineAt: row.deadlineAt,
    reconcileAttempts: row.reconcileAttempts,
    nextReconcileAt: row.nextReconcileAt,
    settlementStatus: row.settlementStatus as SettlementStatus,
    settledAt: row.settledAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toPaymentEvent(row: PaymentEvent): PaymentEventRecord {
  return {
    channelId: row.channelId,
    eventId: row.eventId,
    paymentId: row.paymentId,
    source: row.source as PaymentEventRecord['source'],
    status: row.status,
    amountMinor: row.amountMinor === null ? null : qirshFromColumn(row.amountMinor),
    occurredAt: row.occurredAt,
    outcome: row.outcome,
  };
}

function toAudit(row: AuditLog): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    entity: row.entity,
    entityId: row.entityId,
    action: row.action,
    fromState: row.fromState,
    toState: row.toState,
    detail: row.detail === null ? null : fromJson(row.detail),
  };
}

function toOutbox(row: OutboxItem): OutboxItemRecord {
  return {
    id: row.id,
    kind: row.kind as OutboxKind,
    lane: row.lane as OutboxLane,
    dedupeKey: row.dedupeKey,
    identityId: row.identityId,
    channel: row.channel,
    address: row.address,
    payload: fromJson(row.payload),
    text: row.text,
    status: row.status as OutboxStatus,
    attempts: row.attempts,
    nextAttemptAt: row.nextAttemptAt,
    leaseOwner: row.leaseOwner,
    leaseUntil: row.leaseUntil,
    lastError: row.lastError,
    providerMessageId: row.providerMessageId,
    deliveryStatus: row.deliveryStatus,
    broadcastId: row.broadcastId,
    urgent: row.urgent,
    createdAt: row.createdAt,
    doneAt: row.doneAt,
    redeliveries: row.redeliveries,
  };
}

function toBroadcast(row: Broadcast): BroadcastRecord {
  return {
    id: row.id,
    text: { ar: row.textAr, en: row.textEn },
    audience: fromJson(row.audience) as BroadcastAudience,
    channels: fromJson(row.channels) as BroadcastChannel[],
    urgent: row.urgent,
    status: row.status as BroadcastStatus,
    recipients: row.recipients,
    smsPartsPerMessage: row.smsPartsPerMessage,
    smsPartsTotal: row.smsPartsTotal,
    planCursor: row.planCursor,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    cancelledAt: row.cancelledAt,
    finishedAt: row.finishedAt,
  };
}

/** Identity channels a broadcast channel reaches (the sandbox stands in for the real one). */
const BROADCAST_CHANNELS: Record<BroadcastChannel, IdentityChannel[]> = {
  sms: ['sms', 'sandbox-sms'],
  telegram: ['telegram', 'sandbox-telegram'],
};

/**
 * Replies and work go oldest first (id order: a conversation's replies leave in the order they
 * were written; these queues are short). The bulk lane, which may hold a million rows, goes by
 * (nextAttemptAt, id) — a broadcast's rows share their time, so that is id order within it —
 * which the index serves in order: a claim costs the same with a million rows queued (sorting
 * every due row cost ~170 ms per claim there).
 */
function claimOrder(
  due: Prisma.OutboxItemWhereInput & { status: 'queued' | 'leased' },
): Array<'id' | 'nextAttemptAt' | 'leaseUntil'> {
  if (due.lane !== 'bulk') return ['id'];
  return due.status === 'leased' ? ['leaseUntil', 'id'] : ['nextAttemptAt', 'id'];
}

/**
 * The rows of one lane a claim may take, in the order it takes them: leases that expired (their
 * holder died), then urgent rows, then the rest (see claimOrder). Each class is a probe of the
 * (lane, status, urgent, nextAttemptAt, id) index.
 * In quiet hours the bulk lane gives only urgent rows.
 */
function dueClasses(
  lane: OutboxLane,
  now: Date,
  filter: OutboxClaimFilter | undefined,
): Array<Prisma.OutboxItemWhereInput & { status: 'queued' | 'leased' }> {
  const urgentOnly = lane === 'bulk' && filter?.bulkUrgentOnly === true;
  return [
    { lane, status: 'leased', leaseUntil: { lt: now }, ...(urgentOnly ? { urgent: true } : {}) },
    { lane, status: 'queued', urgent: true, nextAttemptAt: { lte: now } },
    ...(urgentOnly
      ? []
      : [{ lane, status: 'queued' as const, urgent: false, nextAttemptAt: { lte: now } }]),
  ];
}

/**
 * The WHERE clause (over Identity i JOIN Subscriber s) of an audience: reachable identities on
 * the channels (sandbox ones only as `reach` says), matching every filter given. A subscriber's
 * governorates are their own and those of the accounts they follow (as the biller reported them).
 */
function audienceWhere(
  audience: BroadcastAudience,
  channels: BroadcastChannel[],
  reach: BulkReach,
): { sql: string; params: unknown[] } {
  const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
  const identityChannels = [...new Set(channels.flatMap((c) => BROADCAST_CHANNELS[c]))].filter(
    (c) => reach.includeSandbox !== false || !isSandbox(c),
  );
  const parts = ['i."optedOut" = FALSE', `i."channel" IN (${marks(identityChannels.length)})`];
  const params: unknown[] = [...identityChannels];
  if (!('all' in audience)) {
    const { governorates, billers, languages } = audience;
    if (languages && languages.length > 0) {
      parts.push(`s."language" IN (${marks(languages.length)})`);
      params.push(...languages);
    }
    if (billers && billers.length > 0) {
      parts.push(
        `EXISTS (SELECT 1 FROM "FollowedAccount" fb WHERE fb."subscriberId" = s."id" AND fb."billerId" IN (${marks(billers.length)}))`,
      );
      params.push(...billers);
    }
    if (governorates && governorates.length > 0) {
      parts.push(
        `(s."governorate" IN (${marks(governorates.length)}) OR EXISTS (
           SELECT 1 FROM "FollowedAccount" fg JOIN "BillAccount" ag
             ON ag."billerId" = fg."billerId" AND ag."account" = fg."account"
           WHERE fg."subscriberId" = s."id" AND ag."governorate" IN (${marks(governorates.length)})))`,
      );
      params.push(...governorates, ...governorates);
    }
  }
  return { sql: parts.join(' AND '), params };
}

function toWatch(row: Watch): WatchRecord {
  return {
    id: row.id,
    kind: row.kind as WatchKind,
    target: row.target,
    subscriberId: row.subscriberId,
    identityId: row.identityId,
  };
}
