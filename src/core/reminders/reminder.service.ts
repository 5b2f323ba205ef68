/**
 * Due-date reminders (docs/design.md §7).
 *
 * A tick (node-cron, hourly, and once at start) does three things:
 * 1. takes the (reminders, hour) job run, so that ticks that repeat, overlap or run on several
 *    instances do the work once;
 * 2. refreshes from the biller the followed accounts whose reminders are due now and that it
 *    has not asked about since the send time (and any not fetched for a day, to learn of new
 *    bills), so a bill paid at a counter is known as paid;
 * 3. plans, in one statement, one reminder row per (bill, offset, subscriber) for the slots
 *    of the latest send time: `TASDEED_SEND_HOUR` today once it has passed, else yesterday's.
 *    A unique key per row makes planning again write nothing.
 *
 * Catch-up: the tick at start after downtime plans the latest send time's slots if they were
 * missed (still relevant: at most a day old); slots of earlier send times are stale and
 * skipped (a reminder two days late would arrive next to the next one). Quiet hours are the
 * dispatcher's: a reminder planned in them waits for their end.
 *
 * Just before a reminder is sent, {@link ReminderService.compose} checks again: reminders
 * still on, the account still followed, the bill still unpaid (asked of the biller when the
 * cache is older than `checkFreshMs`; an account the biller no longer knows is dropped), no
 * payment of it through us open or done, and its slot not stale: a row that waited past the
 * next send time (downtime, quiet hours) is dropped like a slot planning skips.
 */
import { billArgs, type BillService } from '../bills/bill.service.js';
import { mapBounded } from '../bounded.js';
import { mediumOf } from '../domain.js';
import type { Choice } from '../i18n/reply.js';
import type { Composed } from '../outbox/message.handler.js';
import type { BulkReach } from '../ports/bulk-reach.js';
import type { Clock } from '../ports/clock.port.js';
import type {
  IdentityRecord,
  OutboxItemRecord,
  ReminderPayload,
  Store,
  SubscriberRecord,
} from '../ports/store.port.js';
import {
  addDays,
  daysBetween,
  latestLocalHour,
  localDate,
  localHourKey,
} from '../schedule/local-time.js';

export interface ReminderOptions {
  /** Days from the due date (TASDEED_REMINDER_OFFSETS). */
  offsets: readonly number[];
  /** Local hour (TASDEED_SEND_HOUR). */
  sendHour: number;
  timezone: string;
  /** Who runs the tick (instance id), recorded on the job run. */
  owner: string;
  /** Which identities besides the real ones reminders reach (default: sandbox ones too). */
  reach?: BulkReach;
  /** A due bill's cache younger than this is trusted without asking the biller (1 h). */
  checkFreshMs?: number;
  /** Followed accounts not fetched for this long are refreshed to learn of new bills (24 h). */
  staleMs?: number;
  /** Biller requests at once while refreshing (8). */
  refreshConcurrency?: number;
  /** Most accounts refreshed in one tick (20,000); the rest wait for the next tick. */
  refreshLimit?: number;
  /** A job run that has not finished after this long is taken over (10 min). */
  runStaleMs?: number;
}

export type TickResult =
  | { status: 'taken'; slot: string }
  | { status: 'done'; slot: string; sendDate: string; refreshed: number; planned: number };

export interface ReminderEvents {
  onPlanned?(count: number): void;
}

export function isReminderPayload(value: unknown): value is ReminderPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.billerId === 'string' &&
    typeof v.billId === 'string' &&
    typeof v.account === 'string' &&
    typeof v.offset === 'number'
  );
}

export class ReminderService {
  private readonly checkFreshMs: number;
  private readonly staleMs: number;
  private readonly refreshConcurrency: number;
  private readonly refreshLimit: number;
  private readonly runStaleMs: number;

  constructor(
    private readonly store: Store,
    private readonly bills: BillService,
    private readonly clock: Clock,
    private readonly options: ReminderOptions,
    private readonly events: ReminderEvents = {},
  ) {
    this.checkFreshMs = options.checkFreshMs ?? 3_600_000;
    this.staleMs = options.staleMs ?? 86_400_000;
    this.refreshConcurrency = options.refreshConcurrency ?? 8;
    this.refreshLimit = options.refreshLimit ?? 20_000;
    this.runStaleMs = options.runStaleMs ?? 600_000;
  }

  /** The due dates whose reminders belong to the send time of `sendDate`, with their offsets. */
  slotsFor(sendDate: string): Array<{ dueDate: string; offset: number }> {
    return [...new Set(this.options.offsets)].map((offset) => ({
      dueDate: addDays(sendDate, -offset),
      offset,
    }));
  }

  /**
   * One tick: take the hour's run, refresh, plan. Safe to call any number of times. An aborted
   * `signal` (the process is stopping) cuts the refresh short; planning still runs (one
   * statement), so the run finishes instead of blocking its hour until it goes stale.
   */
  async tick(signal?: AbortSignal): Promise<TickResult> {
    const now = this.clock.now();
    const { timezone } = this.options;
    // The run is per local hour: a subscriber who follows an account at 11:00 is planned at
    // 12:00's tick, while ticks within one hour do the work once.
    const hourSlot = localHourKey(now, timezone);
    const taken = await this.store.claimJobRun(
      'reminders',
      hourSlot,
      this.options.owner,
      now,
      this.runStaleMs,
    );
    if (!taken) return { status: 'taken', slot: hourSlot };
    const send = latestLocalHour(now, this.options.sendHour, timezone);
    const slots = this.slotsFor(send.date);
    const refreshed = await this.refresh(
      slots.map((s) => s.dueDate),
      send.at,
      signal,
    );
    const planned = await this.store.planReminders(
      { slots, now: this.clock.now() },
      this.options.reach,
    );
    if (planned > 0) this.events.onPlanned?.(planned);
    const result = {
      status: 'done' as const,
      slot: hourSlot,
      sendDate: send.date,
      refreshed,
      planned,
    };
    await this.store.finishJobRun('reminders', hourSlot, this.options.owner, this.clock.now(), {
      sendDate: send.date,
      refreshed,
      planned,
    });
    return result;
  }

  /**
   * Asks the biller about the accounts that need it; a biller that is down is skipped fast.
   * An account with a bill due in this send time's slots is asked once per send time (the
   * cut-off is the send time itself): whatever was known before it may be out of date, and the
   * later hourly ticks of the day leave it alone instead of asking the biller every hour.
   */
  private async refresh(dueDates: string[], sendAt: Date, signal?: AbortSignal): Promise<number> {
    const now = this.clock.now().getTime();
    const accounts = await this.store.reminderRefreshCandidates({
      dueDates,
      checkedBefore: sendAt,
      staleBefore: new Date(now - this.staleMs),
      limit: this.refreshLimit,
    });
    const fresh = await mapBounded(accounts, this.refreshConcurrency, async (account) => {
      // Stopping: the accounts not asked yet are left for the next run.
      if (signal?.aborted) return false;
      // Never throws for the biller's sake; a down biller leaves the cache as it was.
      const result = await this.bills.inquire(account.billerId, account.account);
      return result.kind === 'fresh';
    });
    return fresh.filter(Boolean).length;
  }

  /**
   * A reminder whose send date (due date + offset) is before the latest send time's date
   * waited past the next send time (downtime, quiet hours, retries): planning would skip that
   * slot by now, and the reminder would arrive next to the next one, so it is dropped too.
   */
  private isStale(dueDate: string, offset: number, now: Date): boolean {
    const latest = latestLocalHour(now, this.options.sendHour, this.options.timezone);
    return addDays(dueDate, offset) < latest.date;
  }

  /** The check just before sending, and the message itself. */
  readonly compose = async (
    item: OutboxItemRecord,
    identity: IdentityRecord,
    subscriber: SubscriberRecord,
  ): Promise<Composed> => {
    const p = item.payload;
    if (!isReminderPayload(p)) return { fail: 'malformed reminder payload' };
    if (!subscriber.remindersEnabled) return { skip: 'reminders off' };
    if (!(await this.store.isFollowing(subscriber.id, p.billerId, p.account)))
      return { skip: 'account no longer followed' };
    let bill = await this.store.getBill(p.billerId, p.billId);
    const now = this.clock.now();
    if (bill && this.isStale(bill.dueDate, p.offset, now))
      return { skip: 'stale: a later send time has passed' };
    if (!bill || now.getTime() - bill.fetchedAt.getTime() > this.checkFreshMs) {
      // A biller that is down answers from the cache: the reminder goes out on what we know.
      const answer = await this.bills.inquire(p.billerId, p.account);
      if (answer.kind === 'unknown') return { skip: 'account unknown to the biller' };
      bill = await this.store.getBill(p.billerId, p.billId);
    }
    if (!bill) return { skip: 'bill no longer known' };
    if (bill.status !== 'unpaid') return { skip: 'bill paid' };
    if (await this.store.activePaymentForBill(p.billerId, p.billId))
      return { skip: 'bill paid or being paid through us' };
    if (this.isStale(bill.dueDate, p.offset, now))
      return { skip: 'stale: a later send time has passed' };
    const days = daysBetween(localDate(now, this.options.timezone), bill.dueDate);
    const key = days > 0 ? 'reminder-before' : days === 0 ? 'reminder-today' : 'reminder-overdue';
    // Telegram gets a pay button; on SMS a numbered choice would need an open conversation.
    const choices: Choice[] =
      mediumOf(identity.channel) === 'telegram'
        ? [{ key: 'choice-pay', payload: `PAY ${bill.billerId} ${bill.account}` }]
        : [];
    return {
      payload: {
        key,
        args: { ...billArgs(bill), days: Math.abs(days) },
        ...(choices.length > 0 ? { choices } : {}),
      },
    };
  };
}
