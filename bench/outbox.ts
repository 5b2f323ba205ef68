/**
 * The outbox figures of `npm run bench` (see bench/README.md):
 *
 * - dispatch: a staff broadcast (POST /admin/broadcasts) to recipients written straight into
 *   the database, sent by the real Tasdeed through providers that enforce their limits
 *   (bench/rate-limited.ts in front of the test/support stand-ins); the figure is the rate
 *   achieved over the channel's cap, and the 429s the providers answered.
 * - reminders: ReminderService.tick() planning reminders for 100,000 unpaid bills (and
 *   1,000,000 in the full run), against raw better-sqlite3 inserts of the same outbox rows in
 *   one transaction.
 */
import BetterSqlite3 from 'better-sqlite3';
import { DateTime } from 'luxon';
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { latestLocalHour } from '../src/core/schedule/local-time.js';
import { measureSms } from '../src/sms/sms-renderer.js';
import { startFakeBiller } from '../test/support/fake-biller.server.js';
import { startFakePaymentChannel } from '../test/support/fake-payment.server.js';
import {
  FakeClock,
  httpCatalogue,
  startTasdeed,
  type Running,
  type SqliteRunning,
} from '../test/support/harness.js';
import type {
  ProviderKind,
  ProviderReport,
  ProviderRequest,
  ProviderResponse,
  ProviderStarted,
} from './provider-process.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/** What bench/index.ts lends the outbox benchmarks: its output. */
export interface BenchContext {
  log(message: string): void;
  figure(name: string, value: number, unit: string, baseline: number | null): void;
  detail(key: string, value: unknown): void;
  /** A broken promise (a 429, a recipient missed or served twice): the run exits 1. */
  warn(message: string): void;
  /** Worth a glance, not a failure (a target missed on a busy machine). */
  note(message: string): void;
}

export interface OutboxSettings {
  /** Broadcast recipients per channel: each run lasts recipients ÷ cap seconds. */
  telegramRecipients: number;
  twilioRecipients: number;
  androidRecipients: number;
  /**
   * Reminder planning runs, one per size: bills whose reminders are planned, and alternating
   * baseline/tick rounds (after a warm-up of each).
   */
  reminderBills: ReadonlyArray<{ bills: number; rounds: number }>;
}

export const OUTBOX_SETTINGS: { quick: OutboxSettings; full: OutboxSettings } = {
  // Quick: 10 s a channel, still ten one-second windows.
  quick: {
    telegramRecipients: 250,
    twilioRecipients: 100,
    androidRecipients: 10,
    reminderBills: [{ bills: 100_000, rounds: 1 }],
  },
  full: {
    telegramRecipients: 1_500,
    twilioRecipients: 300,
    androidRecipients: 30,
    reminderBills: [
      { bills: 100_000, rounds: 3 },
      { bills: 1_000_000, rounds: 2 },
    ],
  },
};

/** The caps configured in Tasdeed (the defaults of docs/design.md §3, set explicitly). */
const TELEGRAM_BULK_PER_SECOND = 25;
/** Telegram's own limit for a bot, which the Bot API stand-in enforces. */
const TELEGRAM_OVERALL_LIMIT = 30;
const SMS_MAX_PER_SECOND = 10;
const SMS_MAX_PER_SECOND_ANDROID = 1;

/** Tasdeed's zone (its default, set explicitly): quiet hours and send dates are local. */
const TIMEZONE = 'Asia/Damascus';
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const TELEGRAM_WEBHOOK_SECRET = 'bench-webhook-secret_0123456789';
/** One SMS part in UCS-2 (≤ 70 characters), so recipients per second = parts per second. */
const BROADCAST_TEXT = 'تسديد: عادت خدمة الدفع بالمحفظة إلى العمل. شكراً لصبركم.';
const BILLER_TOKEN = 'bench-biller-token';
/** How often the broadcast's progress is read (GET /admin/broadcasts/:id), as staff might. */
const PROGRESS_POLL_MS = 500;
const PAYMENT_SECRET = 'whsec-bench-0123456789abcdef';

/** Quiet hours twelve hours away from now, so that a bulk run never meets them. */
export function quietHoursAwayFromNow(): string {
  const hour = DateTime.now().setZone(TIMEZONE).hour;
  return `${(hour + 12) % 24}-${(hour + 13) % 24}`;
}

// ---------------------------------------------------------------------------------------------
// Seeding, straight into the SQLite file (Tasdeed's tables, integer-millisecond datetimes)

function openDb(file: string): BetterSqlite3.Database {
  return new BetterSqlite3(file, { timeout: 5_000 });
}

/**
 * `count` subscribers speaking `language`, each with one identity on `channel`; `from` offsets
 * their ids and addresses so that several groups can be seeded.
 */
function seedRecipients(
  file: string,
  channel: 'telegram' | 'sms',
  language: 'ar' | 'en',
  from: number,
  count: number,
  address: (i: number) => string,
): void {
  const db = openDb(file);
  try {
    const now = Date.now();
    const sub = db.prepare(
      `INSERT INTO "Subscriber" ("id", "language", "governorate", "remindersEnabled", "createdAt", "updatedAt")
       VALUES (?, ?, 'DAM', 1, ?, ?)`,
    );
    const ident = db.prepare(
      `INSERT INTO "Identity" ("id", "subscriberId", "channel", "address", "optedOut", "createdAt")
       VALUES (?, ?, ?, ?, 0, ?)`,
    );
    db.transaction(() => {
      for (let i = from; i < from + count; i++) {
        const n = String(i).padStart(7, '0');
        sub.run(`bench-sub-${n}`, language, now, now);
        ident.run(`bench-idn-${n}`, `bench-sub-${n}`, channel, address(i), now);
      }
    })();
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Dispatch

interface ProgressBody {
  id?: string;
  status: string;
  recipients: number;
  counts: Record<string, number>;
}

async function admin(
  running: Running,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${running.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: unknown = await res.json();
  return { status: res.status, json };
}

/** POSTs a broadcast and follows its progress through the staff API until it is done. */
async function broadcast(
  running: Running,
  channel: 'telegram' | 'sms',
  language: 'ar' | 'en',
  maxMs: number,
): Promise<{
  created: { id: string; recipients: number };
  progress: ProgressBody;
  polls: number;
  finished: boolean;
}> {
  const started = performance.now();
  const posted = await admin(running, 'POST', '/admin/broadcasts', {
    text: { ar: BROADCAST_TEXT },
    audience: { languages: [language] },
    channels: [channel],
  });
  const created = posted.json as { id?: string; recipients?: number };
  if (posted.status !== 201 || !created.id)
    throw new Error(`POST /admin/broadcasts → ${posted.status} ${JSON.stringify(posted.json)}`);
  let polls = 0;
  for (;;) {
    await sleep(PROGRESS_POLL_MS);
    const got = await admin(running, 'GET', `/admin/broadcasts/${created.id}`);
    polls += 1;
    const progress = got.json as ProgressBody;
    const finished = progress.status === 'done' || progress.status === 'cancelled';
    if (finished || performance.now() - started > maxMs)
      return {
        created: { id: created.id, recipients: created.recipients ?? 0 },
        progress,
        polls,
        finished,
      };
  }
}

/** The providers' child process (bench/provider-process.ts). */
class ProviderClient {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (r: unknown) => void; reject: (e: Error) => void }
  >();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw: unknown) => {
      const message = raw as ProviderResponse | { ready: true };
      if ('ready' in message) return;
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`providers: ${message.error}`));
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`providers exited (${code})`));
      this.waiting.clear();
    });
  }

  static async start(): Promise<ProviderClient> {
    const child = fork(join(BENCH_DIR, 'provider-process.ts'), [], {
      cwd: join(BENCH_DIR, '..'),
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the providers did not start')), 30_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the providers exited (${code})`));
      });
    });
    return new ProviderClient(child);
  }

  request(op: { op: 'start'; kind: ProviderKind; limit: number }): Promise<ProviderStarted>;
  request(op: { op: 'report' }): Promise<ProviderReport>;
  request(op: { op: 'reset' } | { op: 'stop' }): Promise<null>;
  request(op: Omit<ProviderRequest, 'id'>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const message = { ...op, id } as ProviderRequest;
      this.child.send(message);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Absolute milliseconds, comparable with the providers' process. */
const nowAbs = () => performance.timeOrigin + performance.now();

interface ChannelBench {
  /** Figure names: dispatch_<name>_…. */
  name: string;
  kind: ProviderKind;
  channel: 'telegram' | 'sms';
  cap: number;
  /** What the provider enforces (Telegram: 30/s; SMS: the cap itself). */
  providerLimit: number;
  recipients: number;
  /** Tasdeed's env for this channel, given the provider. */
  env: (provider: ProviderStarted) => Record<string, string>;
  address: (i: number) => string;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

/**
 * One channel: Tasdeed against the rate-limited provider; a warm-up broadcast (one window's
 * worth of recipients, who speak English) charges the cold start (first queries, the provider
 * client) to nobody, then the measured broadcast goes to `recipients` Arabic speakers.
 */
async function dispatchChannel(
  ctx: BenchContext,
  providers: ProviderClient,
  b: ChannelBench,
): Promise<void> {
  let running: SqliteRunning | null = null;
  try {
    const provider = await providers.request({ op: 'start', kind: b.kind, limit: b.providerLimit });
    running = await startTasdeed({ sqlite: true, env: b.env(provider) });
    const warmCount = Math.max(2, Math.ceil(b.cap));
    seedRecipients(running.dbFile, b.channel, 'en', 0, warmCount, b.address);
    seedRecipients(running.dbFile, b.channel, 'ar', warmCount, b.recipients, b.address);
    const warm = await broadcast(running, b.channel, 'en', 30_000 + (warmCount / b.cap) * 2_000);
    if (!warm.finished) ctx.warn(`${b.name}: the warm-up broadcast did not finish`);
    const warmReport = await providers.request({ op: 'report' });
    const warmRefused = Object.values(warmReport.refused).reduce((x, y) => x + y, 0);
    // Let the warm-up's window pass at both ends before the clock starts.
    await sleep(1_100);
    await providers.request({ op: 'reset' });

    const expectedMs = (b.recipients / b.cap) * 1000;
    const maxMs = expectedMs * 1.5 + 30_000;
    const started = nowAbs();
    const run = await broadcast(running, b.channel, 'ar', maxMs);
    if (!run.finished)
      ctx.warn(`${b.name}: the broadcast had not finished after ${(maxMs / 1000).toFixed(0)} s`);
    if (run.created.recipients !== b.recipients)
      ctx.warn(
        `${b.name}: the broadcast counts ${run.created.recipients} recipients, not ${b.recipients}`,
      );

    const report = await providers.request({ op: 'report' });
    const ok = report.deliveries.filter((d) => d.status >= 200 && d.status < 300);
    const accepted = ok.map((d) => d.at).sort((x, y) => x - y);
    const distinct = new Set(ok.map((d) => d.to)).size;
    const n = accepted.length;
    const first = accepted[0] ?? Number.NaN;
    const last = accepted[n - 1] ?? Number.NaN;
    // End to end: POST → the last message's window closing (its arrival + 1 s). A sender
    // exactly at the cap delivers N messages in N ÷ cap seconds counted this way.
    const rate = distinct / ((last - started) / 1000 + 1);
    // Sustained: message k + cap can go one window after message k, so (N − cap) messages over
    // the time from the mean arrival of the first cap messages to that of the last cap ones.
    const c = Math.max(1, Math.floor(b.cap));
    const sustained =
      n > c
        ? (n - c) / ((mean(accepted.slice(n - c)) - mean(accepted.slice(0, c))) / 1000)
        : Number.NaN;
    const refused = Object.values(report.refused).reduce((x, y) => x + y, 0);
    const answerMs = ok.map((d) => d.answeredAt - d.at);

    ctx.figure(`dispatch_${b.name}_rate`, rate, 'msg/s', b.cap);
    ctx.figure(`dispatch_${b.name}_sustained`, sustained, 'msg/s', b.cap);
    ctx.figure(`dispatch_${b.name}_429`, refused, 'responses', null);
    ctx.detail(`dispatch_${b.name}`, {
      baseline: 'the configured cap',
      cap: b.cap,
      providerLimitPerSecond: b.providerLimit,
      recipients: b.recipients,
      delivered: distinct,
      duplicates: n - distinct,
      rate: {
        what: 'delivered ÷ (POST → last accepted arrival + 1 s)',
        perSecond: rate,
        ratioToCap: rate / b.cap,
      },
      sustained: {
        what: '(N − cap) ÷ (mean arrival of the last cap messages − mean arrival of the first cap)',
        perSecond: sustained,
        ratioToCap: sustained / b.cap,
      },
      providerAnswerMs: {
        what: 'arrival at the stand-in → its answer sent back',
        p50: percentile(answerMs, 50),
        p95: percentile(answerMs, 95),
      },
      loadAverage: loadavg(),
      firstDeliveryAfterPostMs: first - started,
      lastDeliveryAfterPostMs: last - started,
      firstWindowSpreadMs: (accepted[Math.min(n, c) - 1] ?? first) - first,
      maxInAnyOneSecondWindow: report.maxInWindow,
      refusedByProvider: report.refused,
      warmup: { recipients: warmCount, refused: warmRefused },
      upstreamNon2xx: report.deliveries.length - n,
      finalProgress: run.progress,
      progressPolls: run.polls,
    });
    if (distinct !== b.recipients)
      ctx.warn(`${b.name}: ${distinct} of ${b.recipients} recipients got the broadcast`);
    if (n !== distinct) ctx.warn(`${b.name}: ${n - distinct} duplicate messages`);
    if (refused + warmRefused > 0)
      ctx.warn(
        `${b.name}: the provider answered 429 ${refused} times (and ${warmRefused} in the warm-up)`,
      );
    if (report.deliveries.length !== n)
      ctx.warn(`${b.name}: ${report.deliveries.length - n} messages failed at the stand-in`);
    if (rate / b.cap < 0.95)
      ctx.note(
        `${b.name}: ${rate.toFixed(2)}/s end to end is below the target of 0.95 × the cap (${b.cap}/s)`,
      );
  } finally {
    await running?.close();
    await providers.request({ op: 'stop' }).catch(() => null);
  }
}

function smsNumber(i: number): string {
  return `+9639${String(40_000_000 + i).padStart(8, '0')}`;
}

export async function benchDispatch(ctx: BenchContext, s: OutboxSettings): Promise<void> {
  if (measureSms(BROADCAST_TEXT).parts !== 1)
    throw new Error('the broadcast text must be one SMS part');
  const quiet = quietHoursAwayFromNow();
  // One providers' process serves the three channels in turn (each a fresh stand-in).
  const providers = await ProviderClient.start();
  try {
    await dispatchChannels(ctx, providers, s, quiet);
  } finally {
    await providers.close();
  }
}

async function dispatchChannels(
  ctx: BenchContext,
  providers: ProviderClient,
  s: OutboxSettings,
  quiet: string,
): Promise<void> {
  ctx.log(
    `dispatch telegram_bulk: ${s.telegramRecipients} recipients at ${TELEGRAM_BULK_PER_SECOND}/s (Bot API stand-in: 429 over ${TELEGRAM_OVERALL_LIMIT}/s or 1/s a chat)`,
  );
  await dispatchChannel(ctx, providers, {
    name: 'telegram_bulk',
    kind: 'telegram',
    channel: 'telegram',
    cap: TELEGRAM_BULK_PER_SECOND,
    providerLimit: TELEGRAM_OVERALL_LIMIT,
    recipients: s.telegramRecipients,
    address: (i) => String(6_000_000 + i),
    env: (p) => ({
      TELEGRAM_BOT_TOKEN: p.credentials.token!,
      TELEGRAM_API_ROOT: p.url,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET,
      TELEGRAM_BULK_PER_SECOND: String(TELEGRAM_BULK_PER_SECOND),
      TASDEED_TIMEZONE: TIMEZONE,
      TASDEED_QUIET_HOURS: quiet,
    }),
  });

  ctx.log(
    `dispatch sms_twilio: ${s.twilioRecipients} recipients at ${SMS_MAX_PER_SECOND}/s (Twilio stand-in: 429 over ${SMS_MAX_PER_SECOND} parts/s)`,
  );
  await dispatchChannel(ctx, providers, {
    name: 'sms_twilio',
    kind: 'twilio',
    channel: 'sms',
    cap: SMS_MAX_PER_SECOND,
    providerLimit: SMS_MAX_PER_SECOND,
    recipients: s.twilioRecipients,
    address: smsNumber,
    env: (p) => ({
      SMS_GATEWAY: 'twilio',
      TWILIO_ACCOUNT_SID: p.credentials.accountSid!,
      TWILIO_AUTH_TOKEN: p.credentials.authToken!,
      TWILIO_FROM: '+15005550006',
      TWILIO_API_ROOT: p.url,
      SMS_MAX_PER_SECOND: String(SMS_MAX_PER_SECOND),
      TASDEED_TIMEZONE: TIMEZONE,
      TASDEED_QUIET_HOURS: quiet,
    }),
  });

  ctx.log(
    `dispatch sms_android: ${s.androidRecipients} recipients at ${SMS_MAX_PER_SECOND_ANDROID}/s (gateway stand-in: 429 over ${SMS_MAX_PER_SECOND_ANDROID} part/s)`,
  );
  await dispatchChannel(ctx, providers, {
    name: 'sms_android',
    kind: 'android',
    channel: 'sms',
    cap: SMS_MAX_PER_SECOND_ANDROID,
    providerLimit: SMS_MAX_PER_SECOND_ANDROID,
    recipients: s.androidRecipients,
    address: smsNumber,
    env: (p) => ({
      SMS_GATEWAY: 'android',
      ANDROID_SMS_URL: p.url,
      ANDROID_SMS_USER: p.credentials.user!,
      ANDROID_SMS_PASSWORD: p.credentials.password!,
      ANDROID_SMS_WEBHOOK_SECRET: p.credentials.webhookSecret!,
      SMS_MAX_PER_SECOND_ANDROID: String(SMS_MAX_PER_SECOND_ANDROID),
      TASDEED_TIMEZONE: TIMEZONE,
      TASDEED_QUIET_HOURS: quiet,
    }),
  });
}

// ---------------------------------------------------------------------------------------------
// Reminder planning

/** printf() of a seeded id: the n-th of a kind (seven digits, like the JS side). */
const seededId = (kind: string) => `printf('bench-${kind}-%07d', seq.n)`;

/** `WITH RECURSIVE seq(n)` counting 0 … count − 1: set-based seeding, no row by row. */
function sequence(count: number): string {
  return `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ${count})`;
}

/**
 * `count` subscribers, each following one account with one unpaid bill due on one of the
 * slots of the current send time (spread over the offsets), every snapshot fetched now so that
 * the tick asks the biller nothing; written with set-based inserts. Returns the outbox rows the
 * tick is expected to write, for the baseline, in dedupe key order.
 */
function seedReminderBills(
  db: BetterSqlite3.Database,
  count: number,
  slots: ReadonlyArray<{ dueDate: string; offset: number }>,
): Array<[string, string, string]> {
  const now = Date.now();
  const dueDate = `CASE seq.n % ${slots.length} ${slots.map((sl, k) => `WHEN ${k} THEN '${sl.dueDate}'`).join(' ')} END`;
  const acct = `CAST(100000000 + seq.n AS TEXT)`;
  db.transaction(() => {
    db.prepare(
      `INSERT INTO "Subscriber" ("id", "language", "governorate", "remindersEnabled", "createdAt", "updatedAt")
       ${sequence(count)} SELECT ${seededId('sub')}, 'ar', 'DAM', 1, ?, ? FROM seq`,
    ).run(now, now);
    db.prepare(
      `INSERT INTO "Identity" ("id", "subscriberId", "channel", "address", "optedOut", "createdAt")
       ${sequence(count)} SELECT ${seededId('idn')}, ${seededId('sub')}, 'telegram', CAST(7000000 + seq.n AS TEXT), 0, ? FROM seq`,
    ).run(now);
    db.prepare(
      `INSERT INTO "FollowedAccount" ("id", "subscriberId", "billerId", "account", "createdAt")
       ${sequence(count)} SELECT ${seededId('fol')}, ${seededId('sub')}, 'electricity', ${acct}, ? FROM seq`,
    ).run(now);
    db.prepare(
      `INSERT INTO "BillAccount" ("billerId", "account", "holder", "governorate", "fetchedAt")
       ${sequence(count)} SELECT 'electricity', ${acct}, 'محمد خالد الأحمد', 'DAM', ? FROM seq`,
    ).run(now);
    db.prepare(
      `INSERT INTO "Bill" ("billerId", "billId", "account", "period", "amountMinor", "currency", "dueDate", "status", "fetchedAt")
       ${sequence(count)} SELECT 'electricity', 'B-' || ${acct}, ${acct}, '9-10', 1875000, 'SYP', ${dueDate}, 'unpaid', ? FROM seq`,
    ).run(now);
  })();
  const rows: Array<[string, string, string]> = [];
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(7, '0');
    const account = String(100_000_000 + i);
    const billId = `B-${account}`;
    const slot = slots[i % slots.length]!;
    rows.push([
      `rem:electricity:${billId}:${slot.offset}:bench-sub-${n}`,
      `bench-idn-${n}`,
      JSON.stringify({ billerId: 'electricity', billId, account, offset: slot.offset }),
    ]);
  }
  // Byte order, as SQLite sorts TEXT (the keys are ASCII).
  return rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Counts the reminder rows that differ from `expected` (both in dedupe key order). */
function differingRows(
  db: BetterSqlite3.Database,
  expected: ReadonlyArray<[string, string, string]>,
): { written: number; differing: number } {
  let written = 0;
  let differing = 0;
  const stmt = db.prepare(
    `SELECT "dedupeKey" AS k, "identityId" AS i, "payload" AS p FROM "OutboxItem"
     WHERE "kind" = 'reminder' ORDER BY "dedupeKey"`,
  );
  for (const row of stmt.iterate() as Iterable<{ k: string; i: string; p: string }>) {
    const e = expected[written];
    if (!e || e[0] !== row.k || e[1] !== row.i || e[2] !== row.p) differing += 1;
    written += 1;
  }
  return { written, differing: differing + Math.max(0, expected.length - written) };
}

export async function benchReminderPlanning(
  ctx: BenchContext,
  s: OutboxSettings,
  size: OutboxSettings['reminderBills'][number],
): Promise<void> {
  const n = size.bills;
  const label =
    n % 1_000_000 === 0 ? `${n / 1_000_000}m` : n % 1000 === 0 ? `${n / 1000}k` : `${n}`;
  ctx.log(
    `reminder_plan_${label}: ${n} bills; Tasdeed with the HTTP biller stand-in (which must not be asked)`,
  );
  const biller = await startFakeBiller({ token: BILLER_TOKEN });
  const channel = await startFakePaymentChannel({ webhookSecret: PAYMENT_SECRET });
  let running: SqliteRunning | null = null;
  let db: BetterSqlite3.Database | null = null;
  try {
    // The business clock stands still, so that every tick plans for the same send time even if
    // the run crosses the send hour or midnight.
    const clock = new FakeClock(new Date());
    running = await startTasdeed({
      sqlite: true,
      clock,
      env: { TASDEED_TIMEZONE: TIMEZONE },
      catalogue: httpCatalogue({
        billerUrl: biller.url,
        billerToken: BILLER_TOKEN,
        paymentUrl: channel.url,
        webhookSecret: PAYMENT_SECRET,
      }),
    });
    const { tasdeed } = running;
    // Only the tick runs: no cron (the tick at start has finished once stop() returns), and no
    // dispatcher sending the planned rows while the next round is measured.
    await tasdeed.scheduler?.stop();
    tasdeed.scheduler = null;
    await tasdeed.dispatcher.stop();

    db = openDb(running.dbFile);
    const send = latestLocalHour(
      clock.now(),
      tasdeed.config.reminders.sendHour,
      tasdeed.config.timezone,
    );
    const slots = tasdeed.reminders.slotsFor(send.date);
    const seedStarted = performance.now();
    const rows = seedReminderBills(db, n, slots);
    const seedMs = performance.now() - seedStarted;
    ctx.log(
      `reminder_plan_${label}: seeded in ${(seedMs / 1000).toFixed(1)} s (send date ${send.date})`,
    );

    const insert = db.prepare(
      `INSERT INTO "OutboxItem" ("kind", "lane", "dedupeKey", "identityId", "payload",
         "status", "attempts", "nextAttemptAt", "urgent", "createdAt")
       VALUES ('reminder', 'bulk', ?, ?, ?, 'queued', 0, ?, 0, ?)`,
    );
    const clear = () => {
      db!.exec(`DELETE FROM "OutboxItem" WHERE "kind" = 'reminder'`);
      db!.exec(`DELETE FROM "JobRun" WHERE "job" = 'reminders'`);
      db!.pragma('wal_checkpoint(TRUNCATE)');
    };
    const baseline = (): number => {
      clear();
      const t0 = performance.now();
      const now = Date.now();
      db!.transaction(() => {
        for (const [key, identityId, payload] of rows)
          insert.run(key, identityId, payload, now, now);
      })();
      return performance.now() - t0;
    };
    const tick = async (): Promise<{ ms: number; planned: number; refreshed: number }> => {
      clear();
      const t0 = performance.now();
      const result = await tasdeed.reminders.tick();
      const ms = performance.now() - t0;
      if (result.status !== 'done') throw new Error(`reminder tick: slot ${result.slot} taken`);
      return { ms, planned: result.planned, refreshed: result.refreshed };
    };

    ctx.log(`reminder_plan_${label}: warm-up`);
    baseline();
    const warm = await tick();
    // The baseline writes the very rows the tick wrote (key, recipient, payload).
    const compared = differingRows(db, rows);
    if (compared.written !== rows.length || compared.differing > 0)
      ctx.warn(
        `reminder_plan_${label}: the tick wrote ${compared.written} rows, ${compared.differing} of them unlike the baseline's ${rows.length}`,
      );
    const baseMs: number[] = [];
    const ticks: Array<{ ms: number; planned: number; refreshed: number }> = [];
    for (let r = 0; r < size.rounds; r++) {
      ctx.log(`reminder_plan_${label}: round ${r + 1}/${size.rounds}`);
      baseMs.push(baseline());
      ticks.push(await tick());
    }
    clear();
    const tickMs = mean(ticks.map((t) => t.ms));
    const bMs = mean(baseMs);
    ctx.figure(`reminder_plan_${label}_ms`, tickMs, 'ms', bMs);
    ctx.figure(`reminder_plan_${label}_rate`, (n / tickMs) * 1000, 'bills/s', (n / bMs) * 1000);
    const wrong = [warm, ...ticks].filter((t) => t.planned !== n);
    if (wrong.length > 0)
      ctx.warn(`reminder_plan_${label}: a tick planned ${wrong[0]!.planned} reminders, not ${n}`);
    if (biller.requests.length > 0)
      ctx.warn(
        `reminder_plan_${label}: the biller was asked ${biller.requests.length} times (snapshots were fresh)`,
      );
    ctx.detail(`reminder_plan_${label}`, {
      what: 'ReminderService.tick() (job run, refresh candidates, one INSERT…SELECT) vs raw better-sqlite3 inserts of the same rows, one transaction, prepared statement',
      bills: n,
      sendDate: send.date,
      slots,
      seedMs,
      warmup: { tickMs: warm.ms },
      perRound: ticks.map((t, i) => ({
        tickMs: t.ms,
        baselineMs: baseMs[i],
        planned: t.planned,
        refreshed: t.refreshed,
      })),
      billerRequests: biller.requests.length,
    });
  } finally {
    db?.close();
    await running?.close();
    await channel.close();
    await biller.close();
  }
}
