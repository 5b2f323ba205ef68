/**
 * Several instances on one database (docs/design.md §10) must keep every provider's rate limit for the
 * fleet, not each for itself. Each instance writes a heartbeat every few seconds and counts
 * the live ones; every rate gate then holds 1/n of its limit. Simple, and needs nothing but the
 * database: the cost is that an idle instance's share goes unused, and for one heartbeat after
 * an instance joins the others still use their old, larger share (at most one interval).
 *
 * Heartbeats use real time, not the business clock (tests fake the date, not the fleet).
 */
import type { Store } from './ports/store.port.js';

export interface FleetOptions {
  instanceId: string;
  /** Heartbeat interval (5 s). */
  everyMs?: number;
  /** An instance not seen for this long is gone (3 intervals). */
  staleMs?: number;
  onError?(error: unknown): void;
}

export class FleetMembership {
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: Array<(instances: number) => void> = [];
  private size = 1;
  private readonly everyMs: number;
  private readonly staleMs: number;

  constructor(
    private readonly store: Store,
    private readonly options: FleetOptions,
  ) {
    this.everyMs = options.everyMs ?? 5_000;
    this.staleMs = options.staleMs ?? 3 * this.everyMs;
  }

  /** Live instances at the last heartbeat (this one included). */
  get instances(): number {
    return this.size;
  }

  /** Calls `fn` with the live count now and whenever it changes. */
  onChange(fn: (instances: number) => void): void {
    this.listeners.push(fn);
    fn(this.size);
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.store
      .leaveFleet(this.options.instanceId)
      .catch((error: unknown) => this.options.onError?.(error));
  }

  async beat(): Promise<void> {
    try {
      const now = new Date();
      const n = await this.store.heartbeat(
        this.options.instanceId,
        now,
        new Date(now.getTime() - this.staleMs),
      );
      if (n !== this.size) {
        this.size = Math.max(1, n);
        for (const fn of this.listeners) fn(this.size);
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
