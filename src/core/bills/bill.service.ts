/**
 * Bill inquiry: ask the biller, remember the answer, and when the biller is down answer from
 * the last known bill with its age. Never throws for the biller's sake.
 */
import { mapBounded } from '../bounded.js';
import type { BillerDefinition, Catalogue } from '../catalogue.js';
import type { ReplyArgs } from '../i18n/reply.js';
import { isPreRedenomination } from '../money.js';
import { BillerUnavailableError, PROBE_ACCOUNT, type BillerPort } from '../ports/biller.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { AccountSnapshot, BillRecord, Store } from '../ports/store.port.js';

/** The arguments every bill message takes: biller, account, amount, period, due date. */
/**
 * The arguments of a bill's line. With `today` (the local date, YYYY-MM-DD) a bill past its due
 * date says so (`overdue`: "yes"), rather than "due 28/12" for a date that has gone by.
 */
export function billArgs(bill: BillRecord, today?: string): ReplyArgs {
  return {
    biller: { biller: bill.billerId },
    account: bill.account,
    amount: { money: bill.amountMinor, old: isPreRedenomination(bill.dueDate) },
    period: bill.period,
    due: { date: bill.dueDate },
    overdue: today !== undefined && bill.dueDate < today ? 'yes' : 'no',
  };
}

/**
 * Most lookups one inquiry over several accounts (BILL over every followed account) makes at
 * once: enough to answer quickly, too few for one person to trip a biller's circuit breaker.
 */
export const LOOKUPS_AT_ONCE = 3;

export type InquiryResult =
  | { kind: 'fresh'; snapshot: AccountSnapshot }
  | { kind: 'cached'; snapshot: AccountSnapshot; ageMs: number }
  | { kind: 'unknown' }
  | { kind: 'unavailable' };

export interface BillServiceEvents {
  /** A biller answered after it had been failing (used for "tell me when it is back"). */
  onBillerRecovered?(billerId: string): void;
  onInquiry?(billerId: string, outcome: 'ok' | 'unknown' | 'unavailable'): void;
}

export class BillService {
  /** Billers whose last call failed; cleared by the next success. */
  private readonly failing = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly billers: ReadonlyMap<string, BillerPort>,
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    private readonly events: BillServiceEvents = {},
  ) {}

  biller(billerId: string): BillerDefinition | undefined {
    return this.catalogue.billers.find((b) => b.id === billerId);
  }

  /** True while the biller's last answer was a failure. */
  isDown(billerId: string): boolean {
    return this.failing.has(billerId);
  }

  async inquire(billerId: string, account: string): Promise<InquiryResult> {
    const port = this.billers.get(billerId);
    if (!port) return { kind: 'unknown' };
    try {
      const answer = await port.getAccount(account);
      this.markUp(billerId);
      if (!answer) {
        this.events.onInquiry?.(billerId, 'unknown');
        return { kind: 'unknown' };
      }
      const fetchedAt = this.clock.now();
      const snapshot: AccountSnapshot = {
        billerId,
        account,
        holder: answer.holder,
        governorate: answer.governorate,
        fetchedAt,
        bills: answer.bills.map((b): BillRecord => ({
          billerId,
          billId: b.id,
          account,
          period: b.period,
          amountMinor: b.amountMinor,
          currency: b.currency,
          dueDate: b.dueDate,
          status: b.status,
          fetchedAt,
        })),
      };
      await this.store.saveAccountSnapshot(snapshot);
      this.events.onInquiry?.(billerId, 'ok');
      return { kind: 'fresh', snapshot: await this.withOurPayments(snapshot) };
    } catch (error) {
      if (!(error instanceof BillerUnavailableError)) throw error;
      this.failing.add(billerId);
      this.events.onInquiry?.(billerId, 'unavailable');
      const cached = await this.store.getAccountSnapshot(billerId, account);
      if (!cached) return { kind: 'unavailable' };
      return {
        kind: 'cached',
        snapshot: await this.withOurPayments(cached),
        ageMs: this.clock.now().getTime() - cached.fetchedAt.getTime(),
      };
    }
  }

  /** Inquires about several accounts, {@link LOOKUPS_AT_ONCE} at a time; results in input order. */
  inquireAll(
    accounts: ReadonlyArray<{ billerId: string; account: string }>,
  ): Promise<InquiryResult[]> {
    return mapBounded(accounts, LOOKUPS_AT_ONCE, (a) => this.inquire(a.billerId, a.account));
  }

  /**
   * Whether the biller answers at all (the recovery probe): any answer to an account that
   * cannot exist (a 404) proves it, so the probe needs no real account; it goes past the
   * circuit breaker (BillerPort.ping). The biller is marked up when it answers, without the
   * recovery event: the probe's caller tells the waiting subscribers itself.
   */
  async probe(billerId: string): Promise<boolean> {
    const port = this.billers.get(billerId);
    if (!port) return false;
    try {
      await (port.ping ? port.ping() : port.getAccount(PROBE_ACCOUNT));
    } catch (error) {
      if (!(error instanceof BillerUnavailableError)) throw error;
      this.failing.add(billerId);
      return false;
    }
    this.failing.delete(billerId);
    return true;
  }

  /** The unpaid bills, oldest due first. */
  static unpaid(snapshot: AccountSnapshot): BillRecord[] {
    return snapshot.bills
      .filter((b) => b.status === 'unpaid')
      .sort((a, b) => a.dueDate.localeCompare(b.dueDate));
  }

  private markUp(billerId: string): void {
    if (this.failing.delete(billerId)) this.events.onBillerRecovered?.(billerId);
  }

  /** A bill we already collected is paid, even before the biller's books show it. */
  private async withOurPayments(snapshot: AccountSnapshot): Promise<AccountSnapshot> {
    const bills = await Promise.all(
      snapshot.bills.map(async (bill) => {
        if (bill.status === 'paid') return bill;
        const paid = await this.store.succeededPaymentForBill(bill.billerId, bill.billId);
        return paid ? { ...bill, status: 'paid' as const } : bill;
      }),
    );
    return { ...snapshot, bills };
  }
}
