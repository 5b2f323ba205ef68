/**
 * Tasdeed alone in a process, for the broadcast memory figure (bench/broadcast-memory.ts forks
 * it with `--import tsx --expose-gc` and drives it over IPC), so that its memory is Tasdeed's
 * own and not the orchestrator's or the stand-in's. Not meant to be run by hand.
 *
 * - `start`: Tasdeed on a SQLite file in `dir` (no cron jobs);
 * - `idle`: garbage collected, then sampled while idle (the baseline); then the peak sampler
 *   starts and the kernel's RSS high-water mark is reset;
 * - `report`: the peaks since `idle`: RSS (the kernel's VmHWM, exact, and the sampled maximum)
 *   and V8's heap (sampled);
 * - `bare-send`: sendMessage calls through grammY's Api, `inFlight` at once, no database: what
 *   sending costs without the outbox (the delivery rate's baseline);
 * - `stop`: Tasdeed stopped; the process exits.
 */
import { Api } from 'grammy';
import { readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTasdeed, type SqliteRunning } from '../test/support/harness.js';

export type MemoryRequest =
  | { id: number; op: 'start'; env: Record<string, string>; dir: string }
  | { id: number; op: 'idle'; ms: number }
  | { id: number; op: 'report' }
  | {
      id: number;
      op: 'bare-send';
      apiRoot: string;
      token: string;
      /** Chats firstChat, firstChat + 1, …: outside the broadcast's. */
      firstChat: number;
      maxCount: number;
      maxMs: number;
      inFlight: number;
      text: string;
    }
  | { id: number; op: 'stop' };

export interface Started {
  url: string;
  dbFile: string;
  pid: number;
}

/** Bytes. */
export interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export interface IdleReport {
  /** Means over the idle window, after garbage collection. */
  mean: MemorySnapshot;
  max: MemorySnapshot;
  samples: number;
}

export interface PeakReport {
  /** Sampled maxima since `idle`. */
  max: MemorySnapshot;
  /** The kernel's peak RSS since `idle` (bytes; null where /proc/self/status has none). */
  kernelPeakRss: number | null;
  samples: number;
  intervalMs: number;
  /** Largest gap between two samples (ms): how long the event loop was busy at worst. */
  longestGapMs: number;
  /** The event loop's delay (perf_hooks.monitorEventLoopDelay, 20 ms resolution), ms. */
  eventLoopDelay: { p50: number; p99: number; max: number; mean: number };
  /** One entry per second since `idle`: the maxima within it (MB). */
  perSecond: Array<{ s: number; rssMb: number; heapUsedMb: number }>;
}

export interface BareSendReport {
  sent: number;
  failed: number;
  elapsedMs: number;
}

export type MemoryResponse =
  | { id: number; ok: true; result: Started | IdleReport | PeakReport | BareSendReport | null }
  | { id: number; ok: false; error: string };

const SAMPLE_MS = 10;

function snapshot(): MemorySnapshot {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}

function maxOf(a: MemorySnapshot, b: MemorySnapshot): MemorySnapshot {
  return {
    rss: Math.max(a.rss, b.rss),
    heapUsed: Math.max(a.heapUsed, b.heapUsed),
    heapTotal: Math.max(a.heapTotal, b.heapTotal),
    external: Math.max(a.external, b.external),
  };
}

/** The kernel's peak RSS of this process (VmHWM), in bytes. */
function kernelPeakRss(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0: "5" to clear_refs). */
function resetKernelPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

class PeakSampler {
  private max = snapshot();
  private samples = 0;
  private last = performance.now();
  private longestGap = 0;
  private readonly started = performance.now();
  private readonly perSecond: Array<{ s: number; rssMb: number; heapUsedMb: number }> = [];
  private readonly timer: NodeJS.Timeout;
  private readonly delay = monitorEventLoopDelay({ resolution: 20 });
  readonly kernel: boolean;

  constructor() {
    this.kernel = resetKernelPeak();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.delay.enable();
  }

  private sample(): void {
    const now = performance.now();
    this.longestGap = Math.max(this.longestGap, now - this.last);
    this.last = now;
    const s = snapshot();
    this.max = maxOf(this.max, s);
    this.samples += 1;
    const second = Math.floor((now - this.started) / 1000);
    const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
    const slot = this.perSecond[this.perSecond.length - 1];
    if (slot?.s === second) {
      slot.rssMb = Math.max(slot.rssMb, mb(s.rss));
      slot.heapUsedMb = Math.max(slot.heapUsedMb, mb(s.heapUsed));
    } else this.perSecond.push({ s: second, rssMb: mb(s.rss), heapUsedMb: mb(s.heapUsed) });
  }

  stop(): PeakReport {
    this.sample();
    clearInterval(this.timer);
    this.delay.disable();
    const ms = (ns: number) => ns / 1e6;
    return {
      eventLoopDelay: {
        p50: ms(this.delay.percentile(50)),
        p99: ms(this.delay.percentile(99)),
        max: ms(this.delay.max),
        mean: ms(this.delay.mean),
      },
      max: this.max,
      kernelPeakRss: this.kernel ? kernelPeakRss() : null,
      samples: this.samples,
      intervalMs: SAMPLE_MS,
      longestGapMs: this.longestGap,
      perSecond: this.perSecond,
    };
  }
}

let running: SqliteRunning | null = null;
let sampler: PeakSampler | null = null;

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

async function idle(ms: number): Promise<IdleReport> {
  collect();
  await sleep(500);
  collect();
  const samples: MemorySnapshot[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    samples.push(snapshot());
    await sleep(SAMPLE_MS);
  }
  const mean = (f: (s: MemorySnapshot) => number) =>
    samples.reduce((a, s) => a + f(s), 0) / samples.length;
  const report: IdleReport = {
    mean: {
      rss: mean((s) => s.rss),
      heapUsed: mean((s) => s.heapUsed),
      heapTotal: mean((s) => s.heapTotal),
      external: mean((s) => s.external),
    },
    max: samples.reduce(maxOf),
    samples: samples.length,
  };
  sampler = new PeakSampler();
  return report;
}

async function bareSend(r: Extract<MemoryRequest, { op: 'bare-send' }>): Promise<BareSendReport> {
  const api = new Api(r.token, { apiRoot: r.apiRoot });
  let next = 0;
  let sent = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + r.maxMs;
  let last = started;
  await Promise.all(
    Array.from({ length: r.inFlight }, async () => {
      while (next < r.maxCount && performance.now() < deadline) {
        const chat = r.firstChat + next++;
        try {
          await api.sendMessage(chat, r.text);
          sent += 1;
        } catch {
          failed += 1;
        }
        last = performance.now();
      }
    }),
  );
  return { sent, failed, elapsedMs: last - started };
}

async function handle(
  r: MemoryRequest,
): Promise<Started | IdleReport | PeakReport | BareSendReport | null> {
  switch (r.op) {
    case 'start': {
      running = await startTasdeed({ sqlite: true, dir: r.dir, scheduler: false, env: r.env });
      return { url: running.url, dbFile: running.dbFile, pid: process.pid } satisfies Started;
    }
    case 'idle':
      return idle(r.ms);
    case 'report': {
      if (!sampler) throw new Error('report before idle');
      const report = sampler.stop();
      sampler = null;
      return report;
    }
    case 'bare-send':
      return bareSend(r);
    case 'stop':
      await running?.close();
      running = null;
      return null;
  }
}

process.on('message', (raw: unknown) => {
  const r = raw as MemoryRequest;
  handle(r).then(
    (result) => {
      process.send?.({ id: r.id, ok: true, result });
      if (r.op === 'stop') process.disconnect?.();
    },
    (error: unknown) =>
      process.send?.({
        id: r.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  );
});
process.send?.({ ready: true });
