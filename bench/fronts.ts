/**
 * The fronts' figures of `npm run bench` (see bench/README.md): people writing to Tasdeed and
 * waiting for its reply, through the production webhooks, against the smallest bot on the same
 * libraries, talking to the same provider stand-in, in the same run.
 *
 * - telegram: text updates POSTed to /telegram/webhook; the reply is the sendMessage reaching
 *   the Bot API stand-in. Baseline: a grammY echo bot (webhookCallback on Express).
 * - sms: signed Twilio inbound webhooks POSTed to /sms/twilio/inbound; the reply is the message
 *   created at the Twilio REST stand-in. Baseline: an Express + twilio.webhook() echo that
 *   replies through the REST API.
 *
 * The load generator (bench/load-client.ts, a child process) both sends the webhooks and hosts
 * the stand-in, so that both ends of each conversation are timed on one clock and neither costs
 * the server measured anything.
 */
import { loadavg } from 'node:os';
import { startTasdeed, type Running } from '../test/support/harness.js';
import { grammyEchoBot, twilioEchoServer, type BareServer } from './baselines.js';
import type { BenchContext } from './outbox.js';
import type { ChatJob, ChatResult, SinkJob, SinkResult } from './protocol.js';

/** What bench/index.ts lends: its load generator. */
export interface ChatRunner {
  run(job: SinkJob): Promise<SinkResult>;
  run(job: ChatJob): Promise<ChatResult>;
}

export interface FrontSettings {
  /** Distinct people (Telegram chats, SMS senders); each writes first during the warm-up. */
  people: number;
  /** People writing at once, each waiting for the reply before writing again. */
  lanes: number;
  /** Alternating baseline/Tasdeed segments after the warm-up. */
  rounds: number;
  /** A segment stops at this many messages or after this long, whichever comes first. */
  perSegment: number;
  segmentMs: number;
}

export const FRONT_SETTINGS: { quick: FrontSettings; full: FrontSettings } = {
  quick: { people: 32, lanes: 8, rounds: 2, perSegment: 2_000, segmentMs: 1_500 },
  full: { people: 256, lanes: 8, rounds: 3, perSegment: 8_000, segmentMs: 8_000 },
};

const TELEGRAM_WEBHOOK_SECRET = 'bench-webhook-secret_0123456789';
const TWILIO_FROM = '+15005550006';
/** A bill inquiry (the everyday question) and a command: one reply each. */
const TELEGRAM_TEXTS = ['فاتورة كهرباء 1000101', '/help'];
const SMS_TEXTS = ['فاتورة كهرباء 1000101', 'HELP'];
const REPLY_TIMEOUT_MS = 10_000;

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

interface Pooled {
  messages: number;
  elapsedMs: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  errors: number;
  unexpected: number;
  timedOut: number;
  extraReplies: number;
  firstProblem: string | null;
}

function pool(results: readonly ChatResult[]): Pooled {
  const latencies = results.flatMap((r) => r.latencies);
  const elapsedMs = results.reduce((s, r) => s + r.elapsedMs, 0);
  const statuses: Record<string, number> = {};
  for (const r of results)
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const sum = (f: (r: ChatResult) => number) => results.reduce((s, r) => s + f(r), 0);
  return {
    messages: latencies.length,
    elapsedMs,
    perSecond: elapsedMs > 0 ? (latencies.length / elapsedMs) * 1000 : 0,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : Number.NaN,
    statuses,
    errors: sum((r) => r.errors),
    unexpected: sum((r) => r.unexpected),
    timedOut: sum((r) => r.timedOut),
    extraReplies: sum((r) => r.extraReplies),
    firstProblem: results.find((r) => r.firstProblem)?.firstProblem ?? null,
  };
}

function check(ctx: BenchContext, what: string, p: Pooled): void {
  if (p.errors + p.unexpected + p.timedOut > 0)
    ctx.warn(
      `${what}: ${p.errors} webhooks without answer, ${p.unexpected} unexpected answers, ${p.timedOut} replies missing; first: ${p.firstProblem ?? '?'}`,
    );
  if (p.extraReplies > 0) ctx.warn(`${what}: ${p.extraReplies} replies more than messages`);
}

interface Front {
  /** Figure names: <name>_reply_rps, _p50, _p95. */
  name: string;
  texts: string[];
  addresses: string[];
  /** The job for a server at `port` (the rest of the job is filled in by `conversation`). */
  job(port: number): Pick<ChatJob, 'front' | 'path' | 'secret' | 'signedUrl' | 'to'> & {
    expectBodyIncludes?: string;
  };
}

/**
 * Warm-up (every person's first message, to each side), then baseline and Tasdeed segments
 * alternating; the figures pool the rounds.
 */
async function conversation(
  ctx: BenchContext,
  client: ChatRunner,
  s: FrontSettings,
  front: Front,
  tasdeedPort: number,
  bare: BareServer,
): Promise<void> {
  const job = (port: number, maxCount: number, maxMs: number): ChatJob => ({
    kind: 'chat',
    port,
    addresses: front.addresses,
    texts: front.texts,
    lanes: s.lanes,
    maxCount,
    maxMs,
    replyTimeoutMs: REPLY_TIMEOUT_MS,
    ...front.job(port),
  });
  ctx.log(`${front.name}: warm-up (first message of ${front.addresses.length} people, each side)`);
  const firstContact = pool([
    await client.run(job(tasdeedPort, front.addresses.length, s.segmentMs * 4)),
  ]);
  check(ctx, `${front.name} warm-up`, firstContact);
  const bareWarm = pool([await client.run(job(bare.port, front.addresses.length, s.segmentMs))]);
  check(ctx, `${front.name} baseline warm-up`, bareWarm);

  const base: ChatResult[] = [];
  const tas: ChatResult[] = [];
  for (let r = 0; r < s.rounds; r++) {
    ctx.log(`${front.name}: round ${r + 1}/${s.rounds}`);
    base.push(await client.run(job(bare.port, s.perSegment, s.segmentMs)));
    tas.push(await client.run(job(tasdeedPort, s.perSegment, s.segmentMs)));
  }
  const b = pool(base);
  const t = pool(tas);
  check(ctx, `${front.name} baseline`, b);
  check(ctx, front.name, t);
  ctx.figure(`${front.name}_reply_rps`, t.perSecond, 'replies/s', b.perSecond);
  ctx.figure(`${front.name}_reply_p50`, t.p50, 'ms', b.p50);
  ctx.figure(`${front.name}_reply_p95`, t.p95, 'ms', b.p95);
  ctx.note(
    `${front.name}: first message of a new person (warm-up): ${firstContact.perSecond.toFixed(1)} replies/s, p50 ${firstContact.p50.toFixed(2)} ms`,
  );
  ctx.detail(`${front.name}_reply`, {
    what: 'message POSTed to the webhook → its reply arriving at the provider stand-in',
    loadAverage: loadavg(),
    lanes: s.lanes,
    people: front.addresses.length,
    texts: front.texts,
    tasdeed: t,
    baseline: b,
    firstContactWarmup: firstContact,
    perRound: tas.map((x, i) => ({
      tasdeedPerSecond: (x.completed / x.elapsedMs) * 1000,
      baselinePerSecond: (base[i]!.completed / base[i]!.elapsedMs) * 1000,
    })),
  });
}

export async function benchTelegram(
  ctx: BenchContext,
  client: ChatRunner,
  s: FrontSettings,
): Promise<void> {
  ctx.log('telegram: Bot API stand-in (load generator), Tasdeed in webhook mode, grammY echo bot');
  const api = await client.run({ kind: 'sink', provider: 'telegram' });
  const token = api.credentials.token!;
  let running: Running | null = null;
  let bare: BareServer | null = null;
  try {
    running = await startTasdeed({
      sqlite: true,
      env: {
        TELEGRAM_BOT_TOKEN: token,
        TELEGRAM_API_ROOT: api.url,
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_WEBHOOK_SECRET,
      },
    });
    bare = await grammyEchoBot({ token, apiRoot: api.url, secret: TELEGRAM_WEBHOOK_SECRET });
    const addresses = Array.from({ length: s.people }, (_, i) => String(5_100_000 + i));
    await conversation(
      ctx,
      client,
      s,
      {
        name: 'telegram',
        texts: TELEGRAM_TEXTS,
        addresses,
        job: () => ({
          front: 'telegram',
          path: '/telegram/webhook',
          secret: TELEGRAM_WEBHOOK_SECRET,
        }),
      },
      Number(new URL(running.url).port),
      bare,
    );
  } finally {
    await bare?.close();
    await running?.close();
  }
}

export async function benchSms(
  ctx: BenchContext,
  client: ChatRunner,
  s: FrontSettings,
): Promise<void> {
  ctx.log('sms: Twilio REST stand-in (load generator), Tasdeed on Twilio, Express echo');
  const api = await client.run({ kind: 'sink', provider: 'twilio' });
  const { accountSid, authToken } = api.credentials as { accountSid: string; authToken: string };
  let running: Running | null = null;
  let bare: BareServer | null = null;
  const echoErrors: unknown[] = [];
  try {
    running = await startTasdeed({
      sqlite: true,
      env: {
        SMS_GATEWAY: 'twilio',
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_AUTH_TOKEN: authToken,
        TWILIO_FROM,
        TWILIO_API_ROOT: api.url,
        // The caps are lifted: the outbound rate per gateway is the dispatch figures' subject,
        // and the per-sender hourly cost guard would silence people who write back quickly.
        SMS_MAX_PER_SECOND: '1000000',
        SMS_REPLIES_PER_HOUR: '1000000',
      },
    });
    bare = await twilioEchoServer({
      accountSid,
      authToken,
      apiRoot: api.url,
      from: TWILIO_FROM,
      onError: (e) => echoErrors.push(e),
    });
    const tasdeedUrl = running.url;
    const barePort = bare.port;
    const addresses = Array.from({ length: s.people }, (_, i) => `+9639${50_000_000 + i}`);
    await conversation(
      ctx,
      client,
      s,
      {
        name: 'sms',
        texts: SMS_TEXTS,
        addresses,
        job: (port) => ({
          front: 'twilio',
          path: '/sms/twilio/inbound',
          secret: authToken,
          // Tasdeed checks the signature over PUBLIC_URL + path; the echo over its Host header.
          signedUrl: `${port === barePort ? `http://127.0.0.1:${barePort}` : tasdeedUrl}/sms/twilio/inbound`,
          to: TWILIO_FROM,
          expectBodyIncludes: '<Response/>',
        }),
      },
      Number(new URL(tasdeedUrl).port),
      bare,
    );
    if (echoErrors.length > 0)
      ctx.warn(`sms baseline: ${echoErrors.length} replies failed: ${String(echoErrors[0])}`);
  } finally {
    await bare?.close();
    await running?.close();
  }
}
