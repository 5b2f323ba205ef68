/**
 * SMS parts per second, per gateway (DESIGN §8), held strictly: at most `rate` parts in any
 * one-second window (a sliding log, so a burst at the end of one second and another at the
 * start of the next cannot add up to twice the rate). An entry counts from when the provider
 * answered, not only from when it was admitted.
 */
import type { SmsGatewayName } from '../config/env.js';
import type { Clock } from '../core/ports/clock.port.js';

/** Admitted: call `sent()` once the provider has answered, so the window counts from then. */
export type PartsAdmission = { ok: true; sent: () => void } | { ok: false; retryAfterMs: number };

const WINDOW_MS = 1_000;

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
