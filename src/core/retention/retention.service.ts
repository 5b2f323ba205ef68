/**
 * Retention (`TASDEED_RETENTION_DAYS`): once a day, rows kept only for a while are deleted:
 * processed inbound messages, finished outbox rows with their SMS parts, delivery receipts.
 * Payments, payment events and the audit trail are kept (they are records of money).
 *
 * - Once a day across instances: the run takes the (retention, local date) job run, as the
 *   reminders take their hour, so ticks that repeat or run on several instances prune once.
 * - Never a long write lock: at most {@link RETENTION_BATCH_ROWS} rows per transaction, each
 *   batch a range of an index, and the event loop gets a turn between batches.
 * - Broadcasts: progress is counted from the recipient rows, so a broadcast's counts are kept
 *   on the broadcast (folded) before any of its rows goes; a broadcast with rows still queued
 *   keeps its rows.
 */
import type { Clock } from '../ports/clock.port.js';
import { PRUNED_KINDS, type PrunedKind, type RetentionPort } from '../ports/retention.port.js';
import type { Store } from '../ports/store.port.js';
import { localDate } from '../schedule/local-time.js';

/** Most rows one transaction deletes. */
export const RETENTION_BATCH_ROWS = 1_000;

const DAY_MS = 86_400_000;
const JOB = 'retention';

export interface RetentionOptions {
  /** TASDEED_RETENTION_DAYS. */
  days: number;
  /** TASDEED_TIMEZONE: the run is per local date. */
  timezone: string;
  /** Who runs the tick (instance id), recorded on the job run. */
  owner: string;
  /** A run unfinished for this long is taken over by the next tick (6 h). */
  runStaleMs?: number;
}

export type RetentionTick =
  | { status: 'taken'; slot: string }
  | {
      status: 'done' | 'stopped';
      slot: string;
      /** Rows older than this were deleted. */
      before: string;
      foldedBroadcasts: number;
      deleted: Record<PrunedKind, number>;
      batches: number;
    };

export class RetentionService {
  constructor(
    private readonly store: Pick<Store, 'claimJobRun' | 'finishJobRun'>,
    private readonly rows: RetentionPort,
    private readonly clock: Clock,
    private readonly options: RetentionOptions,
  ) {}

  /** The cut-off at `now`: rows older than this go. */
  cutoff(now: Date): Date {
    return new Date(now.getTime() - this.options.days * DAY_MS);
  }

  /**
   * One tick: take the day's run, fold old broadcasts, prune kind by kind. Safe to call any
   * number of times. An aborted `signal` (the process is stopping) ends the run between two
   * batches; what is left waits for the next day's run.
   */
  async tick(signal?: AbortSignal): Promise<RetentionTick> {
    const now = this.clock.now();
    const slot = localDate(now, this.options.timezone);
    const { owner } = this.options;
    const taken = await this.store.claimJobRun(
      JOB,
      slot,
      owner,
      now,
      this.options.runStaleMs ?? 6 * 3_600_000,
    );
    if (!taken) return { status: 'taken', slot };
    const before = this.cutoff(now);
    const foldedBroadcasts = await this.rows.foldBroadcasts(before);
    const deleted = Object.fromEntries(PRUNED_KINDS.map((k) => [k, 0])) as Record<
      PrunedKind,
      number
    >;
    let batches = 0;
    let stopped = false;
    for (const kind of PRUNED_KINDS) {
      for (let more = true; more && !stopped;) {
        if (signal?.aborted) {
          stopped = true;
          break;
        }
        const batch = await this.rows.pruneBatch(kind, before, RETENTION_BATCH_ROWS);
        deleted[kind] += batch.deleted;
        batches++;
        more = batch.more;
        // Other work (an inbound message, a send) gets its turn between two batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const result = {
      status: stopped ? ('stopped' as const) : ('done' as const),
      slot,
      before: before.toISOString(),
      foldedBroadcasts,
      deleted,
      batches,
    };
    const { slot: _slot, ...recorded } = result;
    await this.store.finishJobRun(JOB, slot, owner, this.clock.now(), recorded);
    return result;
  }
}
