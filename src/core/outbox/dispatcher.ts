/**
 * The outbox dispatcher: claims due rows with a lease, hands each to the handler of its kind,
 * and records the outcome. A crash leaves leases that expire and are claimed again, so the
 * only work that can repeat is work that was in flight, at most `inFlight` items.
 */
import type { Clock } from '../ports/clock.port.js';
import type { OutboxItemRecord, OutboxKind, OutboxOutcome, Store } from '../ports/store.port.js';

export type OutboxHandler = (item: OutboxItemRecord) => Promise<OutboxOutcome>;

export interface DispatcherOptions {
  owner: string;
  /** Most items handled at once; also the bound on duplicates after a crash. */
  inFlight?: number;
  leaseMs?: number;
  /** Longest sleep between looks at the table when nothing says to wake. */
  idleMs?: number;
  onOutcome?(item: OutboxItemRecord, outcome: OutboxOutcome, seconds: number): void;
  onError?(error: unknown, item?: OutboxItemRecord): void;
}

export class OutboxDispatcher {
  readonly inFlight: number;
  private readonly leaseMs: number;
  private readonly idleMs: number;
  private running = false;
  private active = 0;
  private wakeTimer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly handlers = new Map<OutboxKind, OutboxHandler>();
  private readonly inProgress = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: DispatcherOptions,
  ) {
    this.inFlight = options.inFlight ?? 16;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.idleMs = options.idleMs ?? 1_000;
  }

  register(kind: OutboxKind, handler: OutboxHandler): this {
    this.handlers.set(kind, handler);
    return this;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was enqueued: look now rather than at the next idle tick. */
  notify(): void {
    this.wakeUp?.();
  }

  /** Stops claiming and waits for the items in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
    await Promise.allSettled([...this.inProgress]);
  }

  /** Handles everything due now, then returns (for tests and one-shot tools). */
  async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const batch = await this.store.claimOutbox(
        this.options.owner,
        this.clock.now(),
        this.leaseMs,
        this.inFlight,
      );
      if (batch.length === 0) return handled;
      await Promise.all(batch.map((item) => this.handle(item)));
      handled += batch.length;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.inFlight - this.active;
      let claimed: OutboxItemRecord[] = [];
      if (free > 0) {
        try {
          claimed = await this.store.claimOutbox(
            this.options.owner,
            this.clock.now(),
            this.leaseMs,
            free,
          );
        } catch (error) {
          this.options.onError?.(error);
        }
      }
      for (const item of claimed) {
        this.active += 1;
        const p = this.handle(item).finally(() => {
          this.active -= 1;
          this.inProgress.delete(p);
          this.notify();
        });
        this.inProgress.add(p);
      }
      if (claimed.length > 0 && claimed.length === free) continue;
      await this.sleep();
    }
  }

  private async sleep(): Promise<void> {
    let delay = this.idleMs;
    try {
      const due = await this.store.nextOutboxDue();
      if (due) delay = Math.max(0, Math.min(delay, due.getTime() - this.clock.now().getTime()));
    } catch (error) {
      this.options.onError?.(error);
    }
    if (!this.running) return;
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      this.wakeTimer = setTimeout(resolve, delay);
    });
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeUp = null;
  }

  private async handle(item: OutboxItemRecord): Promise<void> {
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
