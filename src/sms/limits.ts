/**
 * SMS cost guards (DESIGN §8), pure and clock-injected so that the outbox dispatcher can take
 * them over as they are:
 * - {@link PartsLimiter}: parts per second per gateway (`SMS_MAX_PER_SECOND`,
 *   `SMS_MAX_PER_SECOND_ANDROID` for the one SIM of the Android gateway);
 * - {@link ReplyCap}: most replies to one sender per hour (`SMS_REPLIES_PER_HOUR`): an
 *   auto-responder answering our replies would otherwise loop, and every loop costs money.
 */
import type { SmsGatewayName } from '../config/env.js';
import type { Clock } from '../core/ports/clock.port.js';

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

/** Admitted: call `sent()` once the provider has answered, so the window counts from then. */
export type PartsAdmission = { ok: true; sent: () => void } | { ok: false; retryAfterMs: number };

const WINDOW_MS = 1_000;

/**
 * SMS parts per second, per gateway, held strictly: at most `rate` parts in any one-second
 * window (a sliding log, so a burst at the end of one second and another at the start of the
 * next cannot add up to twice the rate). An entry counts from when the provider answered.
 */
export class PartsLimiter {
  private readonly sent = new Map<SmsGatewayName, Array<{ at: number; parts: number }>>();

  constructor(
    private readonly rates: Record<SmsGatewayName, number>,
    private readonly clock: Clock,
  ) {}

  /** Admits `parts` parts through `gateway` now, or says how long to wait. */
  tryAcquire(gateway: SmsGatewayName, parts: number): PartsAdmission {
    const now = this.clock.now().getTime();
    // Below 1 part a second (e.g. 0.5), one part is allowed per 1/rate seconds.
    const rate = this.rates[gateway];
    const window = rate >= 1 ? WINDOW_MS : WINDOW_MS / rate;
    const cap = Math.max(1, Math.floor(rate));
    const log = (this.sent.get(gateway) ?? []).filter((e) => e.at > now - window);
    const used = log.reduce((n, e) => n + e.parts, 0);
    // A message longer than the cap goes alone, once the window is empty.
    if (used > 0 && used + parts > cap) {
      let freed = used;
      let wait = window;
      for (const e of log) {
        freed -= e.parts;
        wait = e.at + window - now;
        if (freed + parts <= cap || freed === 0) break;
      }
      this.sent.set(gateway, log);
      return { ok: false, retryAfterMs: Math.max(1, Math.ceil(wait)) + 20 };
    }
    const entry = { at: now, parts };
    log.push(entry);
    this.sent.set(gateway, log);
    // The provider may see the request later than we admitted it: count from the later time.
    return { ok: true, sent: () => (entry.at = Math.max(entry.at, this.clock.now().getTime())) };
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
