/**
 * The broadcast memory figures of `npm run bench` (see bench/README.md): Tasdeed, alone in a
 * child process (bench/broadcast-process.ts), broadcasts to 1,000,000 Telegram subscribers
 * (100,000 in the quick run) written straight into its SQLite file with set-based inserts; its
 * memory is sampled from the moment it is idle until the last message has arrived at a Bot API
 * stand-in that accepts any rate (in this process), with the bulk cap lifted
 * (TELEGRAM_BULK_PER_SECOND = 1,000,000: at Telegram's 25/s the run would take 11 hours).
 *
 * Figures, per size: peak RSS and peak V8 heap against the same process idle just before the
 * broadcast; the time to plan (POST → every recipient written) against one raw INSERT … SELECT
 * of the same rows on a copy of the database; the time and rate to deliver (POST → last
 * message at the stand-in) against grammY's Api sending alone at the same concurrency.
 *
 * That the recipients are streamed shows as: the planning cursor seen moving batch by batch,
 * deliveries arriving before planning ends, and a heap peak that does not grow with the
 * audience (compare the 100k and 1m lines of the full run).
 */
import BetterSqlite3 from 'better-sqlite3';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type {
  BareSendReport,
  IdleReport,
  MemoryRequest,
  MemoryResponse,
  PeakReport,
  Started,
} from './broadcast-process.js';
import { quietHoursAwayFromNow, type BenchContext } from './outbox.js';
import { startBotApi } from './stand-ins.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

export interface MemorySettings {
  /** Audience sizes, one broadcast each (in a fresh process and database). */
  subscribers: readonly number[];
  /**
   * Delivery is watched for this long after planning ends (or to the last recipient), then
   * what is left is cancelled: at Tasdeed's delivery rate a million messages take hours.
   */
  deliverWindowMs: number;
  /** The delivery baseline (grammY's Api alone) sends this many, or for this long. */
  bareCount: number;
  bareMs: number;
}

export const MEMORY_SETTINGS: { quick: MemorySettings; full: MemorySettings } = {
  quick: { subscribers: [100_000], deliverWindowMs: 5_000, bareCount: 10_000, bareMs: 1_000 },
  full: {
    subscribers: [100_000, 1_000_000],
    deliverWindowMs: 60_000,
    bareCount: 60_000,
    bareMs: 8_000,
  },
};

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const TIMEZONE = 'Asia/Damascus';
const TELEGRAM_WEBHOOK_SECRET = 'bench-webhook-secret_0123456789';
const TEXT = 'تسديد: عادت خدمة الدفع بالمحفظة إلى العمل. شكراً لصبركم.';
/** The broadcast's chats are FIRST_CHAT + n; the baseline's start above them. */
const FIRST_CHAT = 20_000_000;
const BARE_FIRST_CHAT = 40_000_000;
/** In flight at once in the delivery baseline: the dispatcher's bulk pool. */
const BULK_IN_FLIGHT = 16;
/** The planner's batch (BroadcastService's default), to say how many batches to expect. */
const PLAN_BATCH = 2_000;
const MB = 1_048_576;

/**
 * V8's own account of the heap at every garbage collection (`--trace-gc` on the child's
 * stdout): the heap used just before a collection is its high point, so the largest of those
 * is the heap's high-water mark, exact even while the event loop is too busy for the sampler.
 * Lines of other isolates (tsx's loader thread) are told apart by the isolate address: the
 * main one is the first to report a collection forced by gc() ("testing") when idle.
 */
class GcTrace {
  private mainIsolate: string | null = null;
  measuring = false;
  /** Heap used before a collection, the highest seen while measuring (bytes). */
  peakBefore = 0;
  collections = 0;
  longestPauseMs = 0;

  line(text: string): void {
    const m =
      /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: ([A-Za-z -]+?)(?: \([a-z ]+\))? ([\d.]+) \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, ([\d.]+)/.exec(
        text,
      );
    if (!m) {
      if (text.trim()) process.stderr.write(`# [broadcast process] ${text}\n`);
      return;
    }
    if (this.mainIsolate === null && text.includes('testing')) this.mainIsolate = m[1]!;
    if (!this.measuring || m[1] !== this.mainIsolate) return;
    this.collections += 1;
    this.peakBefore = Math.max(this.peakBefore, Number(m[3]) * MB);
    this.longestPauseMs = Math.max(this.longestPauseMs, Number(m[4]));
  }
}

/** The child process running Tasdeed. */
class TasdeedProcess {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (r: unknown) => void; reject: (e: Error) => void }
  >();
  readonly gc = new GcTrace();

  private constructor(private readonly child: ChildProcess) {
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (l) => this.gc.line(l));
    child.on('message', (raw: unknown) => {
      const message = raw as MemoryResponse | { ready: true };
      if ('ready' in message) return;
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`broadcast process: ${message.error}`));
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values())
        w.reject(new Error(`broadcast process exited (${code})`));
      this.waiting.clear();
    });
  }

  static async start(): Promise<TasdeedProcess> {
    const child = fork(join(BENCH_DIR, 'broadcast-process.ts'), [], {
      cwd: join(BENCH_DIR, '..'),
      execArgv: ['--import', 'tsx', '--expose-gc', '--trace-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('broadcast process did not start')), 30_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`broadcast process exited (${code})`));
      });
    });
    return new TasdeedProcess(child);
  }

  request(op: { op: 'start'; env: Record<string, string>; dir: string }): Promise<Started>;
  request(op: { op: 'idle'; ms: number }): Promise<IdleReport>;
  request(op: { op: 'report' }): Promise<PeakReport>;
  request(op: Omit<Extract<MemoryRequest, { op: 'bare-send' }>, 'id'>): Promise<BareSendReport>;
  request(op: { op: 'stop' }): Promise<null>;
  request(op: Omit<MemoryRequest, 'id'>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...op, id });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request({ op: 'stop' }).catch(() => null);
    const timer = setTimeout(() => this.child.kill(), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** `count` Arabic-speaking subscribers with one Telegram identity each, set-based. */
function seedSubscribers(file: string, count: number): number {
  const started = performance.now();
  const db = new BetterSqlite3(file, { timeout: 10_000 });
  try {
    const now = Date.now();
    const seq = `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ${count})`;
    db.transaction(() => {
      db.prepare(
        `INSERT INTO "Subscriber" ("id", "language", "governorate", "remindersEnabled", "createdAt", "updatedAt")
         ${seq} SELECT printf('bench-sub-%07d', n), 'ar', 'DAM', 1, ?, ? FROM seq`,
      ).run(now, now);
      db.prepare(
        `INSERT INTO "Identity" ("id", "subscriberId", "channel", "address", "optedOut", "createdAt")
         ${seq} SELECT printf('bench-idn-%07d', n), printf('bench-sub-%07d', n), 'telegram',
           CAST(${FIRST_CHAT} + n AS TEXT), 0, ? FROM seq`,
      ).run(now);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return performance.now() - started;
}

/**
 * The planning baseline: the same recipient rows a broadcast to everyone on Telegram writes
 * (the planner's INSERT … SELECT, audience and key alike), in one statement, on a copy of the
 * seeded database (so that Tasdeed's file is left as it was).
 */
async function rawPlan(file: string, dir: string): Promise<{ ms: number; rows: number }> {
  const copy = join(dir, 'baseline.db');
  const source = new BetterSqlite3(file, { readonly: true, timeout: 10_000 });
  try {
    await source.backup(copy);
  } finally {
    source.close();
  }
  const db = new BetterSqlite3(copy);
  try {
    db.pragma('journal_mode = WAL');
    const now = Date.now();
    const insert = db.prepare(
      `INSERT INTO "OutboxItem" ("kind", "lane", "dedupeKey", "identityId", "channel", "payload",
         "status", "attempts", "nextAttemptAt", "broadcastId", "urgent", "createdAt")
       SELECT 'broadcast', 'bulk', 'bc:' || ? || ':' || i."id", i."id", i."channel", '{}',
         'queued', 0, ?, ?, 0, ?
       FROM "Identity" i JOIN "Subscriber" s ON s."id" = i."subscriberId"
       WHERE i."optedOut" = 0 AND i."channel" IN ('telegram', 'sandbox-telegram')
       ON CONFLICT ("dedupeKey") DO NOTHING`,
    );
    const id = 'B-baseline';
    const t0 = performance.now();
    const rows = db.transaction(() => insert.run(id, now, id, now).changes)();
    return { ms: performance.now() - t0, rows };
  } finally {
    db.close();
    rmSync(copy, { force: true });
    rmSync(`${copy}-wal`, { force: true });
    rmSync(`${copy}-shm`, { force: true });
  }
}

async function admin(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

function label(n: number): string {
  return n % 1_000_000 === 0 ? `${n / 1_000_000}m` : n % 1000 === 0 ? `${n / 1000}k` : `${n}`;
}

export async function benchBroadcastMemory(ctx: BenchContext, s: MemorySettings): Promise<void> {
  const growths: Growth[] = [];
  for (const n of s.subscribers) await broadcastRun(ctx, s, n, growths);
  // Streamed means the heap does not follow the audience: ten times the recipients must not
  // take several times the heap.
  const small = growths[0];
  const large = growths[growths.length - 1];
  if (small && large && large.n > small.n && large.heapGrowth > 3 * small.heapGrowth + 32 * MB)
    ctx.warn(
      `${large.name}: the heap grew ${(large.heapGrowth / MB).toFixed(0)} MB against ${(small.heapGrowth / MB).toFixed(0)} MB for ${small.n} recipients: recipients held in memory?`,
    );
}

interface Growth {
  n: number;
  heapGrowth: number;
  name: string;
}

async function broadcastRun(
  ctx: BenchContext,
  s: MemorySettings,
  n: number,
  growths: Growth[],
): Promise<void> {
  const name = `broadcast_${label(n)}`;
  ctx.log(`${name}: ${n} subscribers; Tasdeed in its own process, bulk cap lifted`);
  // Every message to the broadcast's chats is counted in a dense array: which got one, which
  // got more; anything else (the delivery baseline) separately.
  const got = new Uint8Array(n);
  let distinct = 0;
  let duplicates = 0;
  let others = 0;
  let firstAt = Number.NaN;
  let lastAt = Number.NaN;
  const api = await startBotApi((to, at) => {
    const i = Number(to) - FIRST_CHAT;
    if (!(i >= 0 && i < n)) {
      others += 1;
      return;
    }
    if (got[i]! > 0) duplicates += 1;
    else {
      distinct += 1;
      if (distinct === 1) firstAt = at;
      lastAt = at;
    }
    got[i] = Math.min(255, got[i]! + 1);
  });
  const token = api.credentials.token!;
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-bench-memory-'));
  let child: TasdeedProcess | null = null;
  let probe: BetterSqlite3.Database | null = null;
  try {
    child = await TasdeedProcess.start();
    const started = await child.request({
      op: 'start',
      dir,
      env: {
        TELEGRAM_BOT_TOKEN: token,
        TELEGRAM_API_ROOT: api.url,
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_WEBHOOK_SECRET,
        TELEGRAM_BULK_PER_SECOND: '1000000',
        TASDEED_TIMEZONE: TIMEZONE,
        TASDEED_QUIET_HOURS: quietHoursAwayFromNow(),
      },
    });
    const seedMs = seedSubscribers(started.dbFile, n);
    ctx.log(`${name}: seeded in ${(seedMs / 1000).toFixed(1)} s`);
    const raw = await rawPlan(started.dbFile, dir);
    ctx.log(`${name}: raw INSERT … SELECT of ${raw.rows} rows: ${(raw.ms / 1000).toFixed(2)} s`);
    if (raw.rows !== n) ctx.warn(`${name}: the raw baseline wrote ${raw.rows} rows, not ${n}`);

    const idle = await child.request({ op: 'idle', ms: 1_500 });
    child.gc.measuring = true;
    probe = new BetterSqlite3(started.dbFile, { readonly: true, timeout: 10_000 });
    const broadcastRow = probe.prepare(
      `SELECT "status" AS status, "planCursor" AS cursor FROM "Broadcast" WHERE "id" = ?`,
    );

    // POST → planned (status leaves 'planning') → every recipient's message at the stand-in.
    const t0 = performance.now();
    const posted = await admin(started.url, 'POST', '/admin/broadcasts', {
      text: { ar: TEXT },
      audience: { all: true },
      channels: ['telegram'],
    });
    const created = posted.json as { id?: string; recipients?: number };
    if (posted.status !== 201 || !created.id)
      throw new Error(`POST /admin/broadcasts → ${posted.status} ${JSON.stringify(posted.json)}`);
    const postMs = performance.now() - t0;
    // Planning is awaited to its end, bounded by a generous time (past it, the planning time is
    // projected from the cursor); delivery is watched for a window after it, or to the last
    // recipient if that comes first.
    const maxPlanMs = 60_000 + 2 * n; // ≥ 500 rows a second
    let planMs = Number.NaN;
    let planProjected = false;
    /** When planning ended (or the bound was reached): the delivery window starts there. */
    let planEndAt = Number.NaN;
    let deliveredAtPlanEnd = 0;
    let windowEnd = Number.NaN;
    const cursors = new Set<string>();
    const timeline: Array<{ s: number; planned: number; delivered: number }> = [];
    let lastTimeline = -1;
    for (;;) {
      const now = performance.now();
      if (Number.isNaN(planMs)) {
        const row = broadcastRow.get(created.id) as
          { status: string; cursor: string | null } | undefined;
        if (row?.cursor) cursors.add(row.cursor);
        if (row && row.status !== 'planning') {
          planMs = now - t0;
          planEndAt = now;
          deliveredAtPlanEnd = distinct;
        } else if (now - t0 > maxPlanMs) {
          const cursor = [...cursors].pop();
          const planned = cursor ? Number(cursor.slice(-7)) + 1 : 0;
          planMs = planned > 0 ? ((now - t0) * n) / planned : Number.NaN;
          planProjected = true;
          planEndAt = now;
          deliveredAtPlanEnd = distinct;
          ctx.warn(
            `${name}: planning had not finished after ${(maxPlanMs / 1000).toFixed(0)} s (${planned} of ${n} rows); its time is projected`,
          );
        }
      }
      const second = Math.floor((now - t0) / 1000);
      if (second !== lastTimeline) {
        lastTimeline = second;
        const cursor = [...cursors].pop();
        timeline.push({
          s: second,
          planned:
            Number.isNaN(planEndAt) || planProjected
              ? cursor
                ? Number(cursor.slice(-7)) + 1
                : 0
              : n,
          delivered: distinct,
        });
      }
      if (distinct >= n) break;
      if (!Number.isNaN(planEndAt) && now - planEndAt > s.deliverWindowMs) {
        windowEnd = now;
        break;
      }
      await sleep(50);
    }
    const complete = distinct >= n;
    // Delivery: measured to the last recipient when the window sufficed; otherwise the rate in
    // the window after planning, and the time projected at that rate.
    const windowMs = (complete ? lastAt : windowEnd) - planEndAt;
    /** POST → the end of what was watched. */
    const measuredMs = (complete ? lastAt : windowEnd) - t0;
    const windowRate = ((distinct - deliveredAtPlanEnd) / windowMs) * 1000;
    const deliverMs = complete
      ? lastAt - t0
      : planMs + ((n - deliveredAtPlanEnd) / windowRate) * 1000;
    const deliveredInRun = distinct;
    const peak = await child.request({ op: 'report' });
    child.gc.measuring = false;
    const peakHeap = Math.max(peak.max.heapUsed, child.gc.peakBefore);
    const beforeCancel = await admin(started.url, 'GET', `/admin/broadcasts/${created.id}`);
    const progress = beforeCancel.json as { status?: string; counts?: Record<string, number> };
    // What is left is withdrawn (staff would cancel it the same way); how long that takes.
    let cancelMs: number | null = null;
    if (!complete) {
      const c0 = performance.now();
      const cancelled = await admin(started.url, 'POST', `/admin/broadcasts/${created.id}/cancel`);
      cancelMs = performance.now() - c0;
      if (cancelled.status !== 200)
        ctx.warn(`${name}: cancel → ${cancelled.status} ${JSON.stringify(cancelled.json)}`);
    }
    // Messages in flight at the cancel arrive now, as would late duplicates.
    await sleep(1_000);
    const bare = await child.request({
      op: 'bare-send',
      apiRoot: api.url,
      token,
      firstChat: BARE_FIRST_CHAT,
      maxCount: s.bareCount,
      maxMs: s.bareMs,
      inFlight: BULK_IN_FLIGHT,
      text: TEXT,
    });
    const bareRate = (bare.sent / bare.elapsedMs) * 1000;
    const afterCancel = await admin(started.url, 'GET', `/admin/broadcasts/${created.id}`);
    const final = afterCancel.json as {
      status?: string;
      recipients?: number;
      counts?: Record<string, number>;
    };

    const peakRss = peak.kernelPeakRss ?? peak.max.rss;
    ctx.figure(`${name}_peak_rss`, peakRss / MB, 'MB', idle.mean.rss / MB);
    ctx.figure(`${name}_peak_heap`, peakHeap / MB, 'MB', idle.mean.heapUsed / MB);
    ctx.figure(`${name}_plan_s`, planMs / 1000, 's', raw.ms / 1000);
    ctx.figure(`${name}_deliver_rate`, windowRate, 'msg/s', bareRate);
    ctx.figure(`${name}_deliver_s`, deliverMs / 1000, 's', n / bareRate);

    const heapGrowth = peakHeap - idle.mean.heapUsed;
    const expectedBatches = Math.ceil(n / PLAN_BATCH);
    ctx.note(
      `${name}: planned in ${(planMs / 1000).toFixed(1)} s${planProjected ? ' (projected)' : ''} (${cursors.size} planning cursors seen of ${expectedBatches} batches; ${deliveredAtPlanEnd} messages delivered before planning ended); ` +
        (complete
          ? `delivered to all in ${(deliverMs / 1000).toFixed(1)} s`
          : `${deliveredInRun} delivered, then cancelled after a ${(windowMs / 1000).toFixed(0)} s window (cancel took ${((cancelMs ?? 0) / 1000).toFixed(1)} s): all ${n} would take ${(deliverMs / 1000 / 60).toFixed(0)} min at ${windowRate.toFixed(1)} msg/s (projected)`) +
        `; heap +${(heapGrowth / MB).toFixed(1)} MB over idle; event loop delay p50 ${peak.eventLoopDelay.p50.toFixed(0)} ms, p99 ${peak.eventLoopDelay.p99.toFixed(0)} ms, max ${peak.eventLoopDelay.max.toFixed(0)} ms`,
    );
    growths.push({ n, heapGrowth, name });
    ctx.detail(name, {
      subscribers: n,
      what: {
        peak_rss:
          "the kernel's RSS high-water mark (VmHWM, reset when idle) from the POST to the end of the delivery window; baseline: mean RSS idle just before",
        peak_heap:
          'V8 heap used, sampled every 10 ms, over the same time; baseline: mean heap used idle just before',
        plan_s:
          "POST /admin/broadcasts → the broadcast leaves 'planning' (every recipient row written, batch by batch); baseline: one raw INSERT … SELECT of the same rows on a copy of the database",
        deliver_rate:
          'messages arrived at the stand-in per second after planning ended (over the window, or to the last recipient); baseline: grammY’s Api sending alone at the bulk pool’s concurrency',
        deliver_s:
          'POST → the last recipient’s message at the stand-in, measured when the window reached it, else planning + the rest at deliver_rate (projected); baseline: recipients ÷ the baseline rate',
      },
      loadAverage: loadavg(),
      seedMs,
      rawPlan: raw,
      postAnsweredMs: postMs,
      planMs,
      planProjected,
      planningCursorsSeen: cursors.size,
      planBatchesExpected: expectedBatches,
      deliveredBeforePlanningEnded: deliveredAtPlanEnd,
      deliveryComplete: complete,
      deliverProjected: !complete,
      deliveryWindowMs: windowMs,
      measuredMs,
      deliveredInRun,
      cancelMs,
      progressBeforeCancel: progress,
      firstDeliveryAfterPostMs: firstAt - t0,
      deliverMs,
      delivered: distinct,
      duplicates,
      otherMessages: others,
      finalProgress: final,
      idle,
      peak: {
        ...peak,
        heapUsedFromGcTrace: {
          what: "the heap used just before each collection (V8's --trace-gc), highest while measuring",
          peakBefore: child.gc.peakBefore,
          collections: child.gc.collections,
          longestPauseMs: child.gc.longestPauseMs,
        },
        heapGrowthBytes: heapGrowth,
        heapGrowthBytesPerRecipient: heapGrowth / n,
      },
      bareSend: { ...bare, perSecond: bareRate, inFlight: BULK_IN_FLIGHT },
      timeline,
    });
    if (duplicates > 0) ctx.warn(`${name}: ${duplicates} duplicate messages`);
    if (complete && final.status !== 'done')
      ctx.warn(`${name}: the broadcast is ${final.status ?? '?'} after delivery, not done`);
    if (!complete && final.status !== 'cancelled')
      ctx.warn(`${name}: the broadcast is ${final.status ?? '?'} after its cancel`);
    // What Tasdeed recorded as sent is what arrived, and the rest was withdrawn.
    const counts = final.counts ?? {};
    const rows = planProjected ? (final.recipients ?? n) : n;
    if (counts.sent !== distinct || (counts.sent ?? 0) + (counts.cancelled ?? 0) !== rows)
      ctx.warn(
        `${name}: Tasdeed counts ${JSON.stringify(counts)}, the stand-in got ${distinct} of ${n}`,
      );
    if (bare.failed > 0) ctx.warn(`${name}: the delivery baseline had ${bare.failed} failures`);
  } finally {
    probe?.close();
    await child?.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
