/**
 * SMS cost guard (DESIGN §8): {@link ReplyCap}, most replies to one sender per hour
 * (`SMS_REPLIES_PER_HOUR`): an auto-responder answering our replies would otherwise loop, and
 * every loop costs money. (Parts per second per gateway are the outbox's rate gates.)
 */
import type { Clock } from '../core/ports/clock.port.js';

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

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
