/**
 * The outbox dispatcher: claims due rows with a lease, hands each to the handler of its kind,
 * and records the outcome.
 *
 * Work is claimed by pools, each with its own lanes and in-flight limit: by default one for a
 * person's replies and deferred work, one for bulk (reminders, broadcasts). Bulk rows waiting
 * for their rate gate therefore never hold the slots a reply needs.
 *
 * In quiet hours (`quiet`), bulk rows are not claimed at all unless urgent; the pool sleeps
 * until the window ends.
 *
 * A crash leaves leases that expire (or, on SQLite, are released at start) and are claimed
 * again, so the only work that can repeat is work that was in flight: at most the sum of the
 * pools' in-flight limits, and for a broadcast at most the bulk pool's. While this process
 * lives, the leases of the items it is handling are renewed, so an item that waits long for its
 * rate gate (16 bulk SMS through a 1-part-a-second SIM) is not claimed a second time.
 */
import type { Clock } from '../ports/clock.port.js';
import type {
  OutboxClaimFilter,
  OutboxItemRecord,
  OutboxKind,
  OutboxLane,
  OutboxOutcome,
  Store,
} from '../ports/store.port.js';

export type OutboxHandler = (item: OutboxItemRecord) => Promise<OutboxOutcome>;

export interface DispatchPool {
  name: string;
  lanes: readonly OutboxLane[];
  /** Most items of this pool handled at once; also its bound on duplicates after a crash. */
  inFlight: number;
}

/** Replies and work: 16 at once. Bulk: 16 at once (enough for 25/s at 600 ms a request). */
export const DEFAULT_POOLS: readonly DispatchPool[] = [
  { name: 'replies', lanes: ['reply', 'work'], inFlight: 16 },
  { name: 'bulk', lanes: ['bulk'], inFlight: 16 },
];

export interface DispatcherOptions {
  owner: string;
  pools?: readonly DispatchPool[];
  leaseMs?: number;
  /** How often the leases of items in flight are renewed (real time); default leaseMs / 3. */
  renewEveryMs?: number;
  /** Longest sleep between looks at the table when nothing says to wake. */
  idleMs?: number;
  /** When quiet hours hold bulk back: their end, or null when `now` is not quiet. */
  quietUntil?: (now: Date) => Date | null;
  onOutcome?(item: OutboxItemRecord, outcome: OutboxOutcome, seconds: number): void;
  onError?(error: unknown, item?: OutboxItemRecord): void;
}

class PoolLoop {
  active = 0;
  wakeUp: (() => void) | null = null;
  /** Something happened since the last claim began (work enqueued, an item finished). */
  poked = false;
  loop: Promise<void> | null = null;
  constructor(readonly pool: DispatchPool) {}
}

export class OutboxDispatcher {
  readonly pools: readonly DispatchPool[];
  private readonly leaseMs: number;
  private readonly idleMs: number;
  private running = false;
  private readonly loops: PoolLoop[];
  private readonly handlers = new Map<OutboxKind, OutboxHandler>();
  private readonly inProgress = new Set<Promise<void>>();
  /** Ids of the items this dispatcher is handling (their leases are renewed). */
  private readonly holding = new Set<number>();
  private renewTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: DispatcherOptions,
  ) {
    this.pools = options.pools ?? DEFAULT_POOLS;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.idleMs = options.idleMs ?? 1_000;
    this.loops = this.pools.map((p) => new PoolLoop(p));
  }

  /** The most items in flight at once over every pool (the bound on duplicates after a crash). */
  get inFlight(): number {
    return this.pools.reduce((n, p) => n + p.inFlight, 0);
  }

  register(kind: OutboxKind, handler: OutboxHandler): this {
    this.handlers.set(kind, handler);
    return this;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const loop of this.loops) loop.loop = this.run(loop);
    this.renewTimer = setInterval(
      () => void this.renewLeases(),
      this.options.renewEveryMs ?? Math.max(1_000, this.leaseMs / 3),
    );
    this.renewTimer.unref();
  }

  /** Something was enqueued: look now rather than at the next idle tick. */
  notify(): void {
    for (const loop of this.loops) this.poke(loop);
  }

  /**
   * Wakes a pool, or, when it is busy claiming, makes it look again before it sleeps: a wake
   * that came while it was not asleep is not lost.
   */
  private poke(loop: PoolLoop): void {
    loop.poked = true;
    loop.wakeUp?.();
  }

  /** Stops claiming and waits for the items in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await Promise.all(this.loops.map((l) => l.loop ?? Promise.resolve()));
    await Promise.allSettled([...this.inProgress]);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
  }

  private async renewLeases(): Promise<void> {
    if (this.holding.size === 0) return;
    try {
      const until = new Date(this.clock.now().getTime() + this.leaseMs);
      await this.store.renewOutboxLeases(this.options.owner, [...this.holding], until);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** Handles everything due now, pool by pool, then returns (for tests and one-shot tools). */
  async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      let round = 0;
      for (const { pool } of this.loops) {
        const batch = await this.store.claimOutbox(
          this.options.owner,
          this.clock.now(),
          this.leaseMs,
          pool.inFlight,
          this.filter(pool),
        );
        await Promise.all(batch.map((item) => this.handle(item)));
        round += batch.length;
      }
      if (round === 0) return handled;
      handled += round;
    }
  }

  private filter(pool: DispatchPool): OutboxClaimFilter {
    const quiet = pool.lanes.includes('bulk') && this.quietEnd() !== null;
    return { lanes: pool.lanes, bulkUrgentOnly: quiet };
  }

  private quietEnd(): Date | null {
    return this.options.quietUntil?.(this.clock.now()) ?? null;
  }

  private async run(loop: PoolLoop): Promise<void> {
    const { pool } = loop;
    while (this.running) {
      loop.poked = false;
      const free = pool.inFlight - loop.active;
      let claimed: OutboxItemRecord[] = [];
      let claimFailed = false;
      if (free > 0) {
        try {
          claimed = await this.store.claimOutbox(
            this.options.owner,
            this.clock.now(),
            this.leaseMs,
            free,
            this.filter(pool),
          );
        } catch (error) {
          claimFailed = true;
          this.options.onError?.(error);
        }
      }
      for (const item of claimed) {
        loop.active += 1;
        const p = this.handle(item).finally(() => {
          loop.active -= 1;
          this.inProgress.delete(p);
          this.poke(loop);
        });
        this.inProgress.add(p);
      }
      if (claimed.length > 0 && claimed.length === free) continue;
      await this.sleep(loop, claimFailed);
    }
  }

  /**
   * Waits for a wake, the next due row or idleMs. After a failed claim (the database refusing
   * writes) it waits idleMs whatever is due: rows already due would make the loop spin.
   */
  private async sleep(loop: PoolLoop, claimFailed = false): Promise<void> {
    let delay = this.idleMs;
    // With every slot taken, only a finishing item (which wakes us) frees one.
    if (!claimFailed && loop.active < loop.pool.inFlight) {
      try {
        const now = this.clock.now().getTime();
        const due = await this.store.nextOutboxDue(this.filter(loop.pool));
        if (due) delay = Math.max(0, Math.min(delay, due.getTime() - now));
        const quietEnd = loop.pool.lanes.includes('bulk') ? this.quietEnd() : null;
        if (quietEnd) delay = Math.max(0, Math.min(delay, quietEnd.getTime() - now));
      } catch (error) {
        this.options.onError?.(error);
      }
    }
    if (!this.running || (loop.poked && !claimFailed)) return;
    let timer: NodeJS.Timeout | null = null;
    await new Promise<void>((resolve) => {
      loop.wakeUp = resolve;
      timer = setTimeout(resolve, delay);
    });
    if (timer) clearTimeout(timer);
    loop.wakeUp = null;
  }

  private async handle(item: OutboxItemRecord): Promise<void> {
    this.holding.add(item.id);
    try {
      await this.handleHeld(item);
    } finally {
      this.holding.delete(item.id);
    }
  }

  private async handleHeld(item: OutboxItemRecord): Promise<void> {
    const started = performance.now();
    const handler = this.handlers.get(item.kind);
    let outcome: OutboxOutcome;
    try {
      outcome = handler
        ? await handler(item)
        : {
            status: 'retry',
            error: `no handler for ${item.kind}`,
            nextAttemptAt: new Date(this.clock.now().getTime() + 60_000),
          };
    } catch (error) {
      this.options.onError?.(error, item);
      outcome = {
        status: 'retry',
        error: error instanceof Error ? error.message : String(error),
        nextAttemptAt: new Date(this.clock.now().getTime() + 30_000),
      };
    }
    try {
      await this.store.finishOutbox(item.id, this.options.owner, outcome, this.clock.now());
    } catch (error) {
      // The lease will expire and the item will be handled again: at least once, never lost.
      this.options.onError?.(error, item);
    }
    this.options.onOutcome?.(item, outcome, (performance.now() - started) / 1000);
  }
}
