/**
 * Limits on starting payments (docs/design.md §3), so that nobody can lock other people's bills: a PAY
 * for any account with any wallet number holds that bill while the channel says pending. A
 * subscriber has at most `maxOpen` open payments (created, pending or held), and at most
 * `startsPerHour` payments are started in any hour by one subscriber and with one payer number
 * (a Telegram user trying many wallet numbers, many Telegram accounts using one). Counted from
 * the payments table, which every instance shares and a restart keeps; the store checks and
 * writes the new payment under one lock (Store.paymentQuota).
 */
import type { Reply } from '../i18n/reply.js';
import type { PaymentQuotaUsage } from '../ports/store.port.js';
import { localTimeOfDay } from '../schedule/local-time.js';

/** The window payment starts are counted in. */
export const PAYMENT_START_WINDOW_MS = 3_600_000;

export interface PaymentLimits {
  /** TASDEED_MAX_OPEN_PAYMENTS. */
  maxOpen: number;
  /** TASDEED_PAYMENT_STARTS_PER_HOUR, per subscriber and per payer number. */
  startsPerHour: number;
}

export const DEFAULT_PAYMENT_LIMITS: PaymentLimits = { maxOpen: 3, startsPerHour: 5 };

/** Why a payment was not started: which limit, and from when a start is possible again. */
export type PaymentLimitRefusal =
  | { limit: 'open'; max: number }
  | { limit: 'subscriber-starts' | 'payer-starts'; max: number; retryAt: Date };

/** The limit a new payment would pass, or null when it may start. */
export function paymentLimitRefusal(
  usage: PaymentQuotaUsage,
  limits: PaymentLimits,
): PaymentLimitRefusal | null {
  if (usage.openPayments >= limits.maxOpen) return { limit: 'open', max: limits.maxOpen };
  // The window holds `max` starts until the oldest of those `max` is an hour old.
  const retry = (from: Date) => new Date(from.getTime() + PAYMENT_START_WINDOW_MS);
  if (usage.subscriberFullSince) {
    return {
      limit: 'subscriber-starts',
      max: limits.startsPerHour,
      retryAt: retry(usage.subscriberFullSince),
    };
  }
  if (usage.payerFullSince) {
    return {
      limit: 'payer-starts',
      max: limits.startsPerHour,
      retryAt: retry(usage.payerFullSince),
    };
  }
  return null;
}

/** What the payer is told: the limit, and the local time from which to try again. */
export function paymentLimitReply(refusal: PaymentLimitRefusal, timezone: string): Reply {
  if (refusal.limit === 'open') return { key: 'pay-limit-open', args: { count: refusal.max } };
  // Shown to the minute: rounded up, so that trying at the time shown works.
  const at = new Date(Math.ceil(refusal.retryAt.getTime() / 60_000) * 60_000);
  return {
    key: refusal.limit === 'subscriber-starts' ? 'pay-limit-starts' : 'pay-limit-payer',
    args: { count: refusal.max, time: localTimeOfDay(at, timezone) },
  };
}
