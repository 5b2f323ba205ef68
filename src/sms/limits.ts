/**
 * SMS cost guards (DESIGN §8), pure and clock-injected so that the outbox dispatcher can take
 * them over as they are:
 * - {@link TokenBucket} / {@link SmsRateLimiter}: parts per second per gateway
 *   (`SMS_MAX_PER_SECOND`, `SMS_MAX_PER_SECOND_ANDROID` for the one SIM of the Android gateway);
 * - {@link ReplyCap}: most replies to one sender per hour (`SMS_REPLIES_PER_HOUR`): an
 *   auto-responder answering our replies would otherwise loop, and every loop costs money.
 */
import type { RateLimits, SmsGatewayName } from '../config/env.js';
import type { Clock } from '../core/ports/clock.port.js';

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * A token bucket: `ratePerSecond` tokens a second, holding at most `capacity` (the burst). A
 * request for more tokens than the capacity (a 3-part message through a 1-per-second SIM) is
 * admitted when the bucket is full and leaves it in debt, so that the average rate holds.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly clock: Clock,
  ) {
    if (!(ratePerSecond > 0) || !(capacity > 0))
      throw new RangeError('rate and capacity must be > 0');
    this.tokens = capacity;
    this.updatedAt = clock.now().getTime();
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(
        this.capacity,
        this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond,
      );
    }
    this.updatedAt = Math.max(this.updatedAt, now);
  }

  /** Takes `n` tokens if allowed now; otherwise says how long to wait. */
  tryTake(n = 1): Admission {
    const now = this.clock.now().getTime();
    this.refill(now);
    const needed = Math.min(n, this.capacity);
    if (this.tokens >= needed) {
      this.tokens -= n;
      return { ok: true };
    }
    return {
      ok: false,
      retryAfterMs: Math.ceil(((needed - this.tokens) / this.ratePerSecond) * 1000),
    };
  }

  /** Tokens available now (negative while in debt). */
  available(): number {
    this.refill(this.clock.now().getTime());
    return this.tokens;
  }
}

/** One bucket per gateway, counting SMS parts. */
export class SmsRateLimiter {
  private readonly buckets: Record<SmsGatewayName, TokenBucket>;

  constructor(limits: Pick<RateLimits, 'smsPerSecond' | 'smsPerSecondAndroid'>, clock: Clock) {
    // A burst of one second's worth (at least one part): a reply of 2 parts goes out at once.
    const bucket = (rate: number) => new TokenBucket(rate, Math.max(1, rate), clock);
    this.buckets = {
      twilio: bucket(limits.smsPerSecond),
      android: bucket(limits.smsPerSecondAndroid),
    };
  }

  /** Admits a message of `parts` parts through `gateway`, or says when to try again. */
  tryAcquire(gateway: SmsGatewayName, parts: number): Admission {
    return this.buckets[gateway].tryTake(Math.max(1, parts));
  }
}

const HOUR_MS = 3_600_000;

/**
 * At most `maxPerHour` replies to one sender in any sliding hour. Senders are keyed by their
 * E.164 number. Memory stays bounded: senders with nothing in the last hour are forgotten.
 */
export class ReplyCap {
  private readonly sent = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(
    private readonly maxPerHour: number,
    private readonly clock: Clock,
  ) {}

  /** Counts one reply to `sender` if the cap allows it. */
  tryReply(sender: string): Admission {
    const now = this.clock.now().getTime();
    this.sweep(now);
    const times = (this.sent.get(sender) ?? []).filter((t) => t > now - HOUR_MS);
    if (times.length >= this.maxPerHour) {
      this.sent.set(sender, times);
      return { ok: false, retryAfterMs: times[0]! + HOUR_MS - now };
    }
    times.push(now);
    this.sent.set(sender, times);
    return { ok: true };
  }

  /** Replies counted for `sender` in the last hour. */
  count(sender: string): number {
    const now = this.clock.now().getTime();
    return (this.sent.get(sender) ?? []).filter((t) => t > now - HOUR_MS).length;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < HOUR_MS) return;
    this.lastSweep = now;
    for (const [sender, times] of this.sent) {
      if (times.every((t) => t <= now - HOUR_MS)) this.sent.delete(sender);
    }
  }
}
