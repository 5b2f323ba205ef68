/**
 * `npm run bench [-- --quick]`: measures Tasdeed on this machine against baselines measured in
 * the same run (see bench/README.md). Prints one line per figure,
 *   name: value unit (X.XX vs baseline)
 * and writes the same figures, with the raw details, to bench/results/latest.json. Section names
 * select parts of the run: `npm run bench -- outbox` (dispatch and reminders, bench/outbox.ts).
 *
 * Tasdeed and the baseline servers run in this process; the requests come from a separate load
 * generator process (bench/load-client.ts) so that making them does not cost the server's event
 * loop anything. Baseline and Tasdeed segments alternate, so that a machine that gets slower or
 * faster during the run affects both sides of a ratio alike.
 */
import BetterSqlite3 from 'better-sqlite3';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { signWebhook } from '../src/core/payments/webhook-signature.js';
import { startFakeBiller, type FakeBiller } from '../test/support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
  type FakeProviderPayment,
} from '../test/support/fake-payment.server.js';
import {
  httpCatalogue,
  startTasdeed,
  type Running,
  type SqliteRunning,
} from '../test/support/harness.js';
import { bareJsonServer, bareWebhookServer, type BareServer } from './baselines.js';
import { keepAliveAgent, send } from './http.js';
import { benchBroadcastMemory, MEMORY_SETTINGS } from './broadcast-memory.js';
import { benchSms, benchTelegram, FRONT_SETTINGS } from './fronts.js';
import {
  benchDispatch,
  benchReminderPlanning,
  OUTBOX_SETTINGS,
  type BenchContext,
} from './outbox.js';
import type {
  ChatJob,
  ChatResult,
  FromClient,
  Job,
  LoadJob,
  LoadResult,
  ReceiptJob,
  ReceiptResult,
  ReceiptStep,
  RequestSpec,
  SinkJob,
  SinkResult,
  ToClient,
} from './protocol.js';

// ---------------------------------------------------------------------------------------------
// Settings

const ARGS = process.argv.slice(2);
const QUICK = ARGS.includes('--quick');
const CONCURRENCY = 8;

/**
 * Parts of the run, by name: `npm run bench -- dispatch reminders` runs those only; no name
 * runs them all. `outbox` stands for dispatch and reminders, `fronts` for telegram and sms.
 */
const SECTIONS = [
  'inquiry',
  'payments',
  'telegram',
  'sms',
  'dispatch',
  'reminders',
  'memory',
] as const;
type Section = (typeof SECTIONS)[number];
const ALIASES: Record<string, readonly Section[]> = {
  outbox: ['dispatch', 'reminders'],
  fronts: ['telegram', 'sms'],
};

function selectedSections(): Set<Section> {
  const names = ARGS.filter((a) => !a.startsWith('--'));
  if (names.length === 0) return new Set(SECTIONS);
  const out = new Set<Section>();
  for (const name of names) {
    const alias = ALIASES[name];
    if (alias) for (const s of alias) out.add(s);
    else if ((SECTIONS as readonly string[]).includes(name)) out.add(name as Section);
    else
      throw new Error(
        `unknown bench section "${name}" (expected ${[...SECTIONS, ...Object.keys(ALIASES)].join(', ')})`,
      );
  }
  return out;
}

interface Settings {
  /** Distinct senders of the inquiry benchmark (each is warmed up once: first contact). */
  inquirySenders: number;
  /** Alternating baseline/Tasdeed segments. */
  rounds: number;
  /**
   * A baseline segment runs this long (or BASELINE_MAX_COUNT requests): the baselines are
   * fast, and a segment of a few hundred requests would last a few ms, which measures noise.
   */
  baselineSegmentMs: number;
  /** Per segment: at most this many inquiries, for at most this long. */
  inquiryPerSegment: number;
  inquirySegmentMs: number;
  /** Payments used to warm the webhook route up, and measured per round. */
  webhookWarmup: number;
  webhooksPerRound: number;
  webhookSegmentMs: number;
  /** Payments whose receipt latency is measured one at a time. */
  receipts: number;
  receiptPhaseMs: number;
  /** Longest wait for the outbox to empty after a burst of webhooks. */
  drainMaxMs: number;
  /** Longest time spent creating payments with PAY. */
  createMaxMs: number;
}

const SETTINGS: Settings = QUICK
  ? {
      inquirySenders: 150,
      rounds: 2,
      baselineSegmentMs: 800,
      inquiryPerSegment: 800,
      inquirySegmentMs: 2_500,
      webhookWarmup: 16,
      webhooksPerRound: 60,
      webhookSegmentMs: 3_000,
      receipts: 12,
      receiptPhaseMs: 3_000,
      drainMaxMs: 5_000,
      createMaxMs: 6_000,
    }
  : {
      inquirySenders: 600,
      rounds: 3,
      baselineSegmentMs: 2_000,
      inquiryPerSegment: 4_000,
      inquirySegmentMs: 8_000,
      webhookWarmup: 60,
      webhooksPerRound: 250,
      webhookSegmentMs: 8_000,
      receipts: 60,
      receiptPhaseMs: 10_000,
      drainMaxMs: 15_000,
      createMaxMs: 25_000,
    };

const BASELINE_MAX_COUNT = 200_000;
/** Each signed webhook is sent to the bare server up to this many times (it only verifies). */
const BASELINE_WEBHOOK_REPEAT = 40;
const RECEIPT_POLL_INTERVAL_MS = 1;
const WEBHOOK_SECRET = 'whsec-bench-0123456789abcdef';
const BILLER_TOKEN = 'bench-biller-token';
const INQUIRY_TEXT = 'فاتورة كهرباء 1000101';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');

function log(message: string): void {
  process.stderr.write(`# ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Statistics

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

interface Summary {
  count: number;
  elapsedMs: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  errors: number;
  unexpected: number;
  firstProblem: string | null;
}

/** Several segments of the same load taken together: all latencies, total count over total time. */
function summarize(results: readonly LoadResult[]): Summary {
  const latencies = results.flatMap((r) => r.latencies);
  const elapsedMs = results.reduce((s, r) => s + r.elapsedMs, 0);
  const statuses: Record<string, number> = {};
  for (const r of results)
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    count: latencies.length,
    elapsedMs,
    perSecond: elapsedMs > 0 ? (latencies.length / elapsedMs) * 1000 : 0,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : Number.NaN,
    statuses,
    errors: results.reduce((s, r) => s + r.errors, 0),
    unexpected: results.reduce((s, r) => s + r.unexpected, 0),
    firstProblem: results.find((r) => r.firstProblem)?.firstProblem ?? null,
  };
}

interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
}

const figures: Figure[] = [];
const details: Record<string, unknown> = {};
const warnings: string[] = [];

function figure(name: string, value: number, unit: string, baseline: number | null): void {
  figures.push({
    name,
    value,
    unit,
    baseline,
    ratio: baseline === null || !(baseline > 0) ? null : value / baseline,
  });
}

function checkClean(what: string, s: Summary): void {
  if (s.errors > 0 || s.unexpected > 0) {
    warnings.push(
      `${what}: ${s.errors} without answer, ${s.unexpected} unexpected answers; first: ${s.firstProblem ?? '?'}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The load generator process

class LoadClient {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (r: unknown) => void; reject: (e: Error) => void }
  >();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw: unknown) => {
      const message = raw as FromClient;
      if ('ready' in message) return;
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`load generator: ${message.error}`));
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load generator exited (${code})`));
      this.waiting.clear();
    });
  }

  static async start(): Promise<LoadClient> {
    const child = fork(join(ROOT, 'bench', 'load-client.ts'), [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('load generator did not start')), 30_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`load generator exited (${code})`));
      });
    });
    return new LoadClient(child);
  }

  run(job: LoadJob): Promise<LoadResult>;
  run(job: ReceiptJob): Promise<ReceiptResult>;
  run(job: SinkJob): Promise<SinkResult>;
  run(job: ChatJob): Promise<ChatResult>;
  run(job: Job): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const message: ToClient = { id, job };
      this.child.send(message);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const message: ToClient = { id: this.nextId++, stop: true };
    if (this.child.connected) this.child.send(message);
    const timer = setTimeout(() => this.child.kill(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

function load(
  port: number,
  items: RequestSpec[],
  maxCount: number,
  maxMs: number,
  expectBodyIncludes?: string,
): LoadJob {
  return {
    kind: 'load',
    port,
    items,
    concurrency: CONCURRENCY,
    maxCount,
    maxMs,
    primePath: '/healthz',
    ...(expectBodyIncludes ? { expectBodyIncludes } : {}),
  };
}

function portOf(running: Running): number {
  return Number(new URL(running.url).port);
}

// ---------------------------------------------------------------------------------------------
// The outbox, read straight from the SQLite file (a second, read-only connection)

class OutboxProbe {
  private readonly db: BetterSqlite3.Database;
  constructor(file: string) {
    this.db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  }

  backlog(): number {
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM "OutboxItem" WHERE "status" IN ('queued', 'leased')`)
      .get() as { n: number };
    return row.n;
  }

  /** Waits until no outbox item is queued or leased; returns how long that took. */
  async drained(maxMs: number): Promise<{ ms: number; left: number }> {
    const started = performance.now();
    for (;;) {
      const left = this.backlog();
      const ms = performance.now() - started;
      if (left === 0 || ms > maxMs) return { ms, left };
      await sleep(5);
    }
  }

  /** Enqueue → sent (ms) of the receipts of these payments, from the rows' own timestamps. */
  receiptQueueTimes(paymentIds: readonly string[]): number[] {
    const wanted = new Set(paymentIds.map((id) => `receipt:${id}`));
    const rows = this.db
      .prepare(
        `SELECT "dedupeKey" AS k, "createdAt" AS c, "doneAt" AS d FROM "OutboxItem" WHERE "dedupeKey" LIKE 'receipt:%' AND "doneAt" IS NOT NULL`,
      )
      .all() as Array<{ k: string; c: unknown; d: unknown }>;
    const ms = (v: unknown) => (typeof v === 'number' ? v : Date.parse(String(v)));
    return rows.filter((r) => wanted.has(r.k)).map((r) => ms(r.d) - ms(r.c));
  }

  close(): void {
    this.db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 1. sandbox_inquiry

async function benchInquiry(client: LoadClient): Promise<void> {
  const s = SETTINGS;
  log('sandbox_inquiry: starting Tasdeed on the embedded defaults');
  const tasdeed = await startTasdeed({ sqlite: true });
  let bare: BareServer | null = null;
  try {
    const port = portOf(tasdeed);
    const items: RequestSpec[] = Array.from({ length: s.inquirySenders }, (_, i) => ({
      method: 'POST',
      path: '/sandbox/messages',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        channel: 'sms',
        from: `+963933${String(i).padStart(6, '0')}`,
        text: INQUIRY_TEXT,
      }),
    }));

    // Tasdeed's own answer, which the baseline then sends back verbatim.
    const agent = keepAliveAgent(1);
    const sample = await send(agent, port, {
      method: 'POST',
      path: '/sandbox/messages',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: 'sms', from: '+963933999999', text: INQUIRY_TEXT }),
    });
    agent.destroy();
    if (sample.status !== 200 || !sample.body.includes('1000101'))
      throw new Error(`inquiry does not work: ${sample.status} ${sample.body}`);
    bare = await bareJsonServer(sample.body);

    log(`sandbox_inquiry: warm-up (first contact of ${items.length} senders; baseline alike)`);
    const firstContact = summarize([
      await client.run(load(port, items, items.length, s.inquirySegmentMs * 2, '1000101')),
    ]);
    checkClean('sandbox_inquiry warm-up', firstContact);
    await client.run(load(bare.port, items, BASELINE_MAX_COUNT, s.baselineSegmentMs));

    const base: LoadResult[] = [];
    const tas: LoadResult[] = [];
    for (let r = 0; r < s.rounds; r++) {
      log(`sandbox_inquiry: round ${r + 1}/${s.rounds}`);
      base.push(await client.run(load(bare.port, items, BASELINE_MAX_COUNT, s.baselineSegmentMs)));
      tas.push(
        await client.run(load(port, items, s.inquiryPerSegment, s.inquirySegmentMs, '1000101')),
      );
    }
    const b = summarize(base);
    const t = summarize(tas);
    checkClean('sandbox_inquiry baseline', b);
    checkClean('sandbox_inquiry', t);
    figure('sandbox_inquiry_rps', t.perSecond, 'req/s', b.perSecond);
    figure('sandbox_inquiry_p50', t.p50, 'ms', b.p50);
    figure('sandbox_inquiry_p95', t.p95, 'ms', b.p95);
    details.sandbox_inquiry = {
      text: INQUIRY_TEXT,
      senders: items.length,
      concurrency: CONCURRENCY,
      tasdeed: t,
      baseline: b,
      firstContactWarmup: firstContact,
      perRound: tas.map((x, i) => ({
        tasdeedPerSecond: (x.completed / x.elapsedMs) * 1000,
        baselinePerSecond: (base[i]!.completed / base[i]!.elapsedMs) * 1000,
      })),
    };
  } finally {
    await bare?.close();
    await tasdeed.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. payment_webhook and 3. receipt_latency

interface OpenPayment {
  sender: string;
  provider: FakeProviderPayment;
}

async function createPayments(
  client: LoadClient,
  tasdeed: Running,
  biller: FakeBiller,
  channel: FakePaymentChannel,
  count: number,
): Promise<OpenPayment[]> {
  const items: RequestSpec[] = [];
  for (let i = 0; i < count; i++) {
    const account = String(700_000 + i);
    biller.addAccount({
      account,
      holder: 'محمد خالد الأحمد',
      governorate: 'DAM',
      bills: [
        {
          id: `B-${account}`,
          period: '9-10',
          amountMinor: 1_875_000,
          currency: 'SYP',
          dueDate: '2026-11-28',
          status: 'unpaid',
        },
      ],
    });
    items.push({
      method: 'POST',
      path: '/sandbox/messages',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        channel: 'sms',
        from: `+963944${String(i).padStart(6, '0')}`,
        text: `PAY electricity ${account}`,
      }),
    });
  }
  const created = summarize([
    await client.run(load(portOf(tasdeed), items, count, SETTINGS.createMaxMs, 'P-')),
  ]);
  checkClean('PAY (payment creation)', created);
  details.payment_creation = created;
  const bySender = new Map<string, FakeProviderPayment>();
  for (const p of channel.payments.values()) bySender.set(p.payer.address, p);
  const open: OpenPayment[] = [];
  for (let i = 0; i < count; i++) {
    const sender = `+963944${String(i).padStart(6, '0')}`;
    const provider = bySender.get(sender);
    if (provider) open.push({ sender, provider });
  }
  return open;
}

function webhookRequest(channel: FakePaymentChannel, p: OpenPayment): RequestSpec {
  const body = JSON.stringify({
    eventId: randomUUID(),
    providerRef: p.provider.providerRef,
    reference: p.provider.reference,
    status: 'succeeded',
    amountMinor: p.provider.amountMinor,
    occurredAt: new Date().toISOString(),
  });
  // The provider's side: the money moved.
  channel.setStatus(p.provider.providerRef, 'succeeded');
  return {
    method: 'POST',
    path: '/payments/webhook/wallet',
    headers: {
      'Content-Type': 'application/json',
      'X-Tasdeed-Signature': signWebhook(WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000)),
    },
    body,
  };
}

async function benchPayments(client: LoadClient): Promise<void> {
  const s = SETTINGS;
  log('payment_webhook: starting the fake biller, the fake payment channel and Tasdeed');
  const biller = await startFakeBiller({ token: BILLER_TOKEN });
  const channel = await startFakePaymentChannel({ webhookSecret: WEBHOOK_SECRET });
  let tasdeed: SqliteRunning | null = null;
  let bare: BareServer | null = null;
  let probe: OutboxProbe | null = null;
  try {
    tasdeed = await startTasdeed({
      sqlite: true,
      catalogue: httpCatalogue({
        billerUrl: biller.url,
        billerToken: BILLER_TOKEN,
        paymentUrl: channel.url,
        webhookSecret: WEBHOOK_SECRET,
      }),
      // PAY goes through the sandbox, which is off by default in front of HTTP adapters.
      env: { TASDEED_SANDBOX: '1' },
    });
    const port = portOf(tasdeed);
    bare = await bareWebhookServer(WEBHOOK_SECRET);
    probe = new OutboxProbe(tasdeed.dbFile);

    const wanted = s.webhookWarmup + s.rounds * s.webhooksPerRound + s.receipts;
    log(`payment_webhook: creating ${wanted} payments with PAY`);
    const open = await createPayments(client, tasdeed, biller, channel, wanted);
    if (open.length < s.webhookWarmup + s.rounds + s.receipts)
      throw new Error(`only ${open.length} payments could be created`);
    // Whatever PAY left in the outbox (the replies are answered inline; nothing should be left).
    await probe.drained(s.drainMaxMs);

    // Split: warm-up, the measured rounds, and the receipt-latency steps.
    const warm = open.slice(0, s.webhookWarmup);
    const receiptSet = open.slice(open.length - s.receipts);
    const measured = open.slice(s.webhookWarmup, open.length - s.receipts);
    const perRound = Math.floor(measured.length / s.rounds);

    log('payment_webhook: warm-up');
    const warmReqs = warm.map((p) => webhookRequest(channel, p));
    const warmRes = summarize([
      await client.run(load(port, warmReqs, warmReqs.length, s.webhookSegmentMs, '"applied"')),
    ]);
    checkClean('payment_webhook warm-up', warmRes);
    await client.run(
      load(bare.port, warmReqs, warmReqs.length * BASELINE_WEBHOOK_REPEAT, s.baselineSegmentMs),
    );
    await probe.drained(s.drainMaxMs);

    const base: LoadResult[] = [];
    const tas: LoadResult[] = [];
    const drains: Array<{ ms: number; left: number }> = [];
    const appliedIds: string[] = [];
    for (let r = 0; r < s.rounds; r++) {
      log(`payment_webhook: round ${r + 1}/${s.rounds}`);
      const chunk = measured.slice(r * perRound, (r + 1) * perRound);
      // Signed just before sending: the same bytes go to the baseline and to Tasdeed.
      const reqs = chunk.map((p) => webhookRequest(channel, p));
      // The bare server only verifies, so the same signed POSTs are sent to it several times
      // over: long enough a segment to measure.
      base.push(
        await client.run(
          load(
            bare.port,
            reqs,
            reqs.length * BASELINE_WEBHOOK_REPEAT,
            s.baselineSegmentMs,
            '"applied"',
          ),
        ),
      );
      const res = await client.run(load(port, reqs, reqs.length, s.webhookSegmentMs, '"applied"'));
      tas.push(res);
      appliedIds.push(...chunk.slice(0, res.completed).map((p) => p.provider.reference));
      // The receipts and settlements those webhooks queued are worked off before the next
      // baseline segment, so that they are not charged to it; how long that takes is reported.
      drains.push(await probe.drained(s.drainMaxMs));
    }
    const b = summarize(base);
    const t = summarize(tas);
    checkClean('payment_webhook baseline', b);
    checkClean('payment_webhook', t);
    figure('payment_webhook_rps', t.perSecond, 'webhooks/s', b.perSecond);
    figure('payment_webhook_p50', t.p50, 'ms', b.p50);
    figure('payment_webhook_p95', t.p95, 'ms', b.p95);
    const queueTimes = probe.receiptQueueTimes(appliedIds);
    const left = drains.reduce((n, d) => n + d.left, 0);
    if (left > 0) warnings.push(`payment_webhook: ${left} outbox items still queued after a round`);
    details.payment_webhook = {
      concurrency: CONCURRENCY,
      tasdeed: t,
      baseline: b,
      warmup: warmRes,
      perRound: tas.map((x, i) => ({
        webhooks: x.completed,
        tasdeedPerSecond: (x.completed / x.elapsedMs) * 1000,
        baselinePerSecond: (base[i]!.completed / base[i]!.elapsedMs) * 1000,
        backlogDrainMsAfterRound: drains[i]!.ms,
      })),
      settlementsAtBiller: biller.effects(),
      receiptsUnderLoad: {
        what: 'enqueue → sent of the receipts of the measured webhooks, from the outbox rows',
        count: queueTimes.length,
        p50: percentile(queueTimes, 50),
        p95: percentile(queueTimes, 95),
        max: queueTimes.length ? Math.max(...queueTimes) : Number.NaN,
      },
    };

    log(`receipt_latency: ${receiptSet.length} payments, one at a time`);
    const receipt = await client.run({
      kind: 'receipt',
      port,
      steps: receiptSet.map((p): ReceiptStep => ({
        webhook: webhookRequest(channel, p),
        poll: {
          method: 'GET',
          path: `/sandbox/messages?channel=sms&from=${encodeURIComponent(p.sender)}&after=0`,
        },
      })),
      pollIntervalMs: RECEIPT_POLL_INTERVAL_MS,
      stepTimeoutMs: 5_000,
      maxMs: s.receiptPhaseMs,
    });
    if (receipt.errors > 0 || receipt.timedOut > 0)
      warnings.push(
        `receipt_latency: ${receipt.errors} errors, ${receipt.timedOut} timed out; first: ${receipt.firstProblem ?? '?'}`,
      );
    figure('receipt_latency_p50', percentile(receipt.latencies, 50), 'ms', null);
    figure('receipt_latency_p95', percentile(receipt.latencies, 95), 'ms', null);
    details.receipt_latency = {
      count: receipt.latencies.length,
      pollIntervalMs: RECEIPT_POLL_INTERVAL_MS,
      pollRttP50: percentile(receipt.pollRtts, 50),
      pollsPerReceiptP50: percentile(receipt.polls, 50),
      max: receipt.latencies.length ? Math.max(...receipt.latencies) : Number.NaN,
      latencies: receipt.latencies,
      timedOut: receipt.timedOut,
      errors: receipt.errors,
    };
    await probe.drained(s.drainMaxMs);
  } finally {
    probe?.close();
    await bare?.close();
    await tasdeed?.close();
    await channel.close();
    await biller.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Output

/** Units of whole counts, printed without decimals. */
const COUNT_UNITS = new Set(['responses']);

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'NaN';
  if (COUNT_UNITS.has(unit)) return value.toFixed(0);
  // Small rates (1 SMS a second) need the second decimal to be read at all.
  return unit === 'ms' || Math.abs(value) < 10 ? value.toFixed(2) : value.toFixed(1);
}

function line(f: Figure): string {
  const ratio = f.ratio === null ? 'n/a' : `${f.ratio.toFixed(2)} vs baseline`;
  return `${f.name}: ${formatValue(f.value, f.unit)} ${f.unit} (${ratio})`;
}

/** Side measurements worth a glance (not figures: no baseline of their own). */
function notes(): string[] {
  const out: string[] = [];
  const inquiry = details.sandbox_inquiry as { firstContactWarmup?: Summary } | undefined;
  if (inquiry?.firstContactWarmup) {
    const s = inquiry.firstContactWarmup;
    out.push(
      `first contact (new sender's first inquiry, warm-up): ${s.perSecond.toFixed(1)} req/s, p50 ${s.p50.toFixed(2)} ms`,
    );
  }
  const created = details.payment_creation as Summary | undefined;
  if (created) {
    out.push(
      `PAY (creating the payments): ${created.perSecond.toFixed(1)} req/s, p50 ${created.p50.toFixed(2)} ms`,
    );
  }
  const hooks = details.payment_webhook as
    | {
        perRound: Array<{ backlogDrainMsAfterRound: number }>;
        receiptsUnderLoad: { p50: number; p95: number };
      }
    | undefined;
  if (hooks) {
    out.push(
      `outbox backlog left after each webhook round drained in: ${hooks.perRound.map((r) => r.backlogDrainMsAfterRound.toFixed(0)).join(', ')} ms`,
      `receipts under webhook load, enqueue → sent (outbox rows): p50 ${hooks.receiptsUnderLoad.p50} ms, p95 ${hooks.receiptsUnderLoad.p95} ms`,
    );
  }
  return out;
}

/** Section → its wall time (s), logged and kept in the JSON. */
const sectionSeconds: Record<string, number> = {};

async function timed(name: string, run: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await run();
  } finally {
    sectionSeconds[name] = Math.round((performance.now() - started) / 100) / 10;
    log(`section ${name}: ${sectionSeconds[name]} s`);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg();
  const sections = selectedSections();
  log(
    `mode: ${QUICK ? 'quick' : 'full'}; node ${process.version}; ${cpus().length} CPUs; ${[...sections].join(', ')}`,
  );
  const outboxNotes: string[] = [];
  const outbox: BenchContext = {
    log,
    figure,
    detail: (key, value) => {
      details[key] = value;
    },
    warn: (message) => warnings.push(message),
    note: (message) => outboxNotes.push(message),
  };
  const frontSettings = QUICK ? FRONT_SETTINGS.quick : FRONT_SETTINGS.full;
  if (['inquiry', 'payments', 'telegram', 'sms'].some((x) => sections.has(x as Section))) {
    const client = await LoadClient.start();
    try {
      if (sections.has('inquiry')) await timed('inquiry', () => benchInquiry(client));
      if (sections.has('payments')) await timed('payments', () => benchPayments(client));
      if (sections.has('telegram'))
        await timed('telegram', () => benchTelegram(outbox, client, frontSettings));
      if (sections.has('sms')) await timed('sms', () => benchSms(outbox, client, frontSettings));
    } finally {
      await client.stop();
    }
  }
  const outboxSettings = QUICK ? OUTBOX_SETTINGS.quick : OUTBOX_SETTINGS.full;
  const memorySettings = QUICK ? MEMORY_SETTINGS.quick : MEMORY_SETTINGS.full;
  if (sections.has('dispatch'))
    await timed('dispatch', () => benchDispatch(outbox, outboxSettings));
  if (sections.has('reminders')) {
    await timed('reminders', async () => {
      for (const bills of outboxSettings.reminderBills)
        await benchReminderPlanning(outbox, outboxSettings, bills);
    });
  }
  if (sections.has('memory'))
    await timed('memory', () => benchBroadcastMemory(outbox, memorySettings));
  const totalMs = performance.now() - started;
  for (const f of figures) console.log(line(f));
  for (const note of [...notes(), ...outboxNotes]) log(note);
  for (const w of warnings) log(`WARNING ${w}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'latest.json');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        mode: QUICK ? 'quick' : 'full',
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? null,
        loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
        sections: [...sections],
        concurrency: CONCURRENCY,
        settings: SETTINGS,
        frontSettings,
        outboxSettings,
        memorySettings,
        durationMs: Math.round(totalMs),
        sectionSeconds,
        figures,
        warnings,
        details,
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${file} (${(totalMs / 1000).toFixed(1)} s)`);
  if (warnings.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
