/**
 * A worker that processes durably recorded rows in batches: woken when a row is recorded, else
 * every `idleMs`; `drain()` processes everything now (tests, tools). The loop and `drain()`
 * never run a batch at the same time, so rows are handled in their recorded order.
 * The Telegram update inbox and the SMS inbox are both built on it.
 */
export abstract class BatchWorker {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private kicked = false;
  private current: Promise<number> | null = null;

  constructor(private readonly idleMs = 1_000) {}

  /** Handles one batch; returns how many rows it took (0 = nothing to do). */
  protected abstract processBatch(): Promise<number>;

  /** Told when a batch throws; the loop goes on. */
  protected abstract onError(error: unknown): void;

  wake(): void {
    this.kicked = true;
    this.wakeUp?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      const done = await this.batch();
      if (done === 0) return n;
      n += done;
    }
  }

  private async batch(): Promise<number> {
    while (this.current) await this.current;
    this.current = this.processBatch();
    try {
      return await this.current;
    } finally {
      this.current = null;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.kicked = false;
      let done = 0;
      try {
        done = await this.batch();
      } catch (error) {
        this.onError(error);
      }
      if (done > 0 || this.kicked) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.idleMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = null;
    }
  }
}
