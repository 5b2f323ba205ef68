/**
 * The scheduled jobs (docs/design.md §7) on node-cron, in `TASDEED_TIMEZONE`:
 * - reminders: every hour on the hour, and once at start (node-cron does not catch up on
 *   missed runs; the tick itself knows what is still due, see ReminderService);
 * - the recovery probe ("tell me when it is back"): every minute;
 * - retention (deleting what is kept for TASDEED_RETENTION_DAYS only): daily at 03:30, and
 *   once at start (see RetentionService).
 *
 * Jobs never overlap themselves in one process (noOverlap), and each records its work so
 * that ticks on several instances do it once.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../observability/logger.js';

export interface ScheduledJob {
  name: string;
  /** A cron expression (minute resolution). */
  cron: string;
  /** `signal` aborts when the scheduler stops: a long run should wind up early then. */
  run(signal: AbortSignal): Promise<unknown>;
  /** Also run once when the scheduler starts (catch-up after downtime). */
  runAtStart?: boolean;
}

export interface Scheduler {
  /** Runs a job now, outside its schedule (tests, catch-up); waits for it. */
  runNow(name: string): Promise<unknown>;
  stop(): Promise<void>;
  /** The next scheduled run of a job (for operators and tests). */
  nextRun(name: string): Date | null;
}

export function startScheduler(options: {
  timezone: string;
  jobs: ScheduledJob[];
  logger: Logger;
}): Scheduler {
  const { logger } = options;
  const running = new Map<string, Promise<unknown>>();
  const tasks = new Map<string, ScheduledTask>();
  const stopping = new AbortController();

  const runJob = (job: ScheduledJob): Promise<unknown> => {
    const current = running.get(job.name);
    if (current) return current;
    const started = performance.now();
    const p = job
      .run(stopping.signal)
      .then((result) => {
        logger.info(
          { job: job.name, result, ms: Math.round(performance.now() - started) },
          'job finished',
        );
        return result;
      })
      .catch((error: unknown) => {
        logger.error({ err: error, job: job.name }, 'job failed');
        return undefined;
      })
      .finally(() => running.delete(job.name));
    running.set(job.name, p);
    return p;
  };

  for (const job of options.jobs) {
    const task = cron.schedule(job.cron, () => runJob(job), {
      timezone: options.timezone,
      name: job.name,
      noOverlap: true,
    });
    tasks.set(job.name, task);
    if (job.runAtStart) void runJob(job);
  }

  return {
    runNow(name) {
      const job = options.jobs.find((j) => j.name === name);
      if (!job) return Promise.reject(new Error(`no job named ${name}`));
      return runJob(job);
    },
    nextRun(name) {
      return tasks.get(name)?.getNextRun() ?? null;
    },
    async stop() {
      for (const task of tasks.values()) await task.destroy();
      // Runs in progress are told to wind up, then awaited (a graceful stop, not a long one).
      stopping.abort();
      await Promise.allSettled([...running.values()]);
    },
  };
}
