import type { Qirsh } from '../money.js';

export type BillStatus = 'unpaid' | 'paid';

export interface BillerBill {
  id: string;
  /** The biller's own label of the billing cycle, e.g. "9-10" or "September–October". */
  period: string;
  amountMinor: Qirsh;
  currency: 'SYP';
  /** YYYY-MM-DD */
  dueDate: string;
  status: BillStatus;
}

export interface BillerAccount {
  account: string;
  holder: string;
  governorate: string;
  bills: BillerBill[];
}

export interface SettlementRequest {
  billId: string;
  /** Also the Idempotency-Key. */
  paymentId: string;
  amountMinor: Qirsh;
  channel: string;
  providerRef: string;
  paidAt: Date;
}

/** acknowledged: 2xx (also for a repeated key); conflict: 409, the bill was paid another way. */
export type SettlementResult = 'acknowledged' | 'conflict';

/**
 * The biller did not answer usefully (timeout, 5xx, garbage): "try later", never the user's fault.
 * `scope: 'account'` says that only this account's answer failed while the biller itself answers
 * (the simulated biller's outage accounts): the circuit breaker does not count it, so one account
 * cannot make the biller fail fast for everyone.
 */
export class BillerUnavailableError extends Error {
  readonly code = 'BILLER.UNAVAILABLE';
  readonly scope: 'biller' | 'account';
  constructor(
    readonly billerId: string,
    message: string,
    options?: { cause?: unknown; scope?: 'biller' | 'account' },
  ) {
    super(`biller ${billerId} unavailable: ${message}`, options);
    this.scope = options?.scope ?? 'biller';
  }
}

/** The account the recovery probe asks for: no biller issues account "0". */
export const PROBE_ACCOUNT = '0';

/** What Tasdeed needs from a biller (docs/design.md §5). */
export interface BillerPort {
  /** The account and its bills; null for an unknown account (404). Throws BillerUnavailableError. */
  getAccount(account: string, signal?: AbortSignal): Promise<BillerAccount | null>;
  /**
   * Whether the biller answers at all ("tell me when it is back"), past anything that would
   * refuse the call without asking it (a circuit breaker): resolves when it answers the probe
   * account (a 404 included), throws BillerUnavailableError otherwise. Without it the probe
   * asks `getAccount(PROBE_ACCOUNT)`.
   */
  ping?(signal?: AbortSignal): Promise<void>;
  /** Posts a settlement; retried by the caller until acknowledged. Throws BillerUnavailableError. */
  settle(request: SettlementRequest, signal?: AbortSignal): Promise<SettlementResult>;
}
