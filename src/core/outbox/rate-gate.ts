/**
 * Send-rate limits (docs/design.md §8) as awaitable gates. A sender asks before each request and
 * waits its turn; waiting callers are served by priority (a person's reply before bulk), then
 * in arrival order, so a reply never queues behind a broadcast.
 *
 * {@link RateGate} holds at most `ratePerSecond` units in any one-second window, strictly (a
 * sliding log, so a burst at the end of one second and another at the start of the next
 * cannot add up to twice the rate). An entry counts from when the provider answered
 * (`release()`), not from when it was admitted: the provider's own clock sees the request
 * somewhere in between, so counting from the answer means the provider never sees more than
 * the rate in any window, however the network delays requests. A unit that costs more than
 * the rate (a 3-part SMS through a 1-part-a-second SIM) goes alone once the window is empty,
 * and holds the window for as long as its cost takes at the rate (3 s), so the rate holds on
 * average too. Below one a second (0.5), one unit is allowed per 1/rate seconds.
 *
 * Time is real elapsed time (performance.now), not the business clock: rate limits are about
 * what the provider sees, and tests that fake the date must not freeze the gates.
 */

/** Lower is served first: 0 a person's reply, 1 work, 2 bulk. */
export type GatePriority = number;

interface Waiter {
  cost: number;
  priority: GatePriority;
  resolve: (release: () => void) => void;
}

interface Entry {
  cost: number;
  /** When the provider answered; null while the request is in flight (it counts as now). */
  at: number | null;
}

export interface RateGateOptions {
  ratePerSecond: number;
  /** Milliseconds, monotonic (tests pass their own). */
  now?: () => number;
}

export class RateGate {
  /** The whole limit (what the provider allows the fleet). */
  readonly fleetRatePerSecond: number;
  /** This instance's part of it (see setShare). */
  ratePerSecond: number;
  private windowMs: number;
  private cap: number;
  private readonly now: () => number;
  private entries: Entry[] = [];
  private pausedUntil = 0;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Grants so far (for benchmarks). */
  granted = 0;

  constructor(options: RateGateOptions) {
    if (!(options.ratePerSecond > 0)) throw new Error('RateGate: ratePerSecond must be > 0');
    this.fleetRatePerSecond = options.ratePerSecond;
    this.ratePerSecond = options.ratePerSecond;
    this.windowMs = 1_000;
    this.cap = 1;
    this.configure(options.ratePerSecond);
    this.now = options.now ?? (() => performance.now());
  }

  private configure(rate: number): void {
    this.ratePerSecond = rate;
    // Below one a second (0.5), one unit per 1/rate seconds.
    this.windowMs = rate >= 1 ? 1_000 : 1_000 / rate;
    this.cap = Math.max(1, Math.floor(rate));
  }

  /**
   * Several instances share one provider limit: each holds an equal part of it, so that the
   * fleet together stays within the limit (docs/design.md §10; see FleetMembership).
   */
  setShare(instances: number): void {
    const n = Math.max(1, Math.floor(instances));
    const rate = this.fleetRatePerSecond / n;
    if (rate === this.ratePerSecond) return;
    this.configure(rate);
    this.pump();
  }

  /** Callers waiting now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves when `cost` units are admitted, with the function to call once the provider has
   * answered (success or not); until then the units count as sent now.
   */
  acquire(cost = 1, priority: GatePriority = 0): Promise<() => void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { cost: Math.max(1, cost), priority, resolve };
      // Sorted insert: by priority, then arrival.
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.priority > priority) i--;
      this.waiters.splice(i, 0, waiter);
      this.pump();
    });
  }

  /** Nothing is admitted for `ms` (the provider said "too many requests, retry after"). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.pump();
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (;;) {
      const head = this.waiters[0];
      if (!head) return;
      const now = this.now();
      if (now < this.pausedUntil) {
        this.schedule(this.pausedUntil - now);
        return;
      }
      this.entries = this.entries.filter((e) => e.at === null || this.leaves(e) > now);
      let used = 0;
      for (const e of this.entries) used += e.cost;
      if (used > 0 && used + head.cost > this.cap) {
        // Wait for enough answered entries to leave the window; in-flight ones wake us on
        // release.
        let freed = used;
        let wait: number | null = null;
        const answered = this.entries
          .filter((e) => e.at !== null)
          .sort((x, y) => this.leaves(x) - this.leaves(y));
        for (const e of answered) {
          freed -= e.cost;
          if (freed + head.cost <= this.cap || freed === 0) {
            wait = this.leaves(e) - now;
            break;
          }
        }
        if (wait !== null) this.schedule(wait);
        return;
      }
      this.waiters.shift();
      const entry: Entry = { cost: head.cost, at: null };
      this.entries.push(entry);
      this.granted += 1;
      let released = false;
      head.resolve(() => {
        if (released) return;
        released = true;
        entry.at = this.now();
        this.pump();
      });
    }
  }

  /** When an answered entry stops counting: a window after the answer, longer if it cost more. */
  private leaves(e: Entry): number {
    return (e.at ?? Infinity) + this.windowMs * Math.max(1, e.cost / this.cap);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(ms)));
  }
}

/**
 * About one message a second per chat for bulk traffic (Telegram's per-chat limit): a chat's
 * messages go one at a time, each `spacingMs` after the provider answered the previous one
 * (counted from the answer for the same reason as {@link RateGate}). Chats that have been quiet
 * for a while are forgotten, so memory follows the active chats only.
 */
export class PerKeySpacing {
  private readonly keys = new Map<string, KeyState>();
  private lastSweep = 0;

  constructor(
    private readonly spacingMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Keys remembered now (for tests). */
  get size(): number {
    return this.keys.size;
  }

  /**
   * Waits until `key` may have its next message; resolves with the function to call once the
   * provider has answered it (the next message for that key waits until then + spacing).
   */
  async acquire(key: string): Promise<() => void> {
    this.sweep(this.now());
    let state = this.keys.get(key);
    if (!state) {
      state = { lastAt: -Infinity, tail: Promise.resolve(), holders: 0 };
      this.keys.set(key, state);
    }
    const s = state;
    const previous = s.tail;
    let done!: () => void;
    s.tail = new Promise<void>((resolve) => (done = resolve));
    s.holders += 1;
    await previous;
    const wait = s.lastAt + this.spacingMs - this.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      s.lastAt = this.now();
      s.holders -= 1;
      done();
    };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, s] of this.keys)
      if (s.holders === 0 && s.lastAt + this.spacingMs <= now) this.keys.delete(key);
  }
}

interface KeyState {
  /** When the provider last answered a message for this key. */
  lastAt: number;
  /** Settles when the last message queued for this key has been answered. */
  tail: Promise<void>;
  /** Messages for this key waiting or in flight. */
  holders: number;
}

/** The gate priority of an outbox lane. */
export function lanePriority(lane: string): GatePriority {
  return lane === 'reply' ? 0 : lane === 'work' ? 1 : 2;
}
