/**
 * What the drills share: a Tasdeed child process booted on a port of its own (so that it can be
 * killed with SIGKILL), the promise bookkeeping every drill reports, and small helpers (a
 * concurrency-limited map, read-only looks into the database, the staff API).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseCatalogue } from '../src/config/catalogue.js';
import type { Catalogue } from '../src/core/catalogue.js';
import { freePort, spawnTasdeed } from '../test/support/harness.js';
import type { DrillDatabase, DrillDialect } from './database.js';

export const ADMIN_TOKEN = 'drill-admin-token-0123456789';

export interface DrillContext {
  /** `--quick`: fewer recipients and inputs, same promises. */
  quick: boolean;
  /** Progress notes (stderr, with `--verbose`). */
  note(message: string): void;
}

/** What a drill hands back: its figures, and each promise it found broken. */
export interface DrillOutcome {
  numbers: string;
  problems: string[];
  /** The end of the Tasdeed process's log, shown when a promise was broken. */
  logTail?: string;
}

export interface Drill {
  name: string;
  /** One line: what is done to Tasdeed and what it promises. */
  what: string;
  /** A drill about one database only: skipped on the other, saying why. */
  only?: { dialect: DrillDialect; why: string };
  run(ctx: DrillContext): Promise<DrillOutcome>;
}

/** The broken promises of one drill. */
export class Promises {
  readonly broken: string[] = [];

  /** Records `message` when `kept` is false; returns `kept`. */
  check(kept: boolean, message: string): boolean {
    if (!kept) this.broken.push(message);
    return kept;
  }
}

/** Directories the drills made and have not removed yet (removed too when interrupted). */
export const tempDirs = new Set<string>();

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `tasdeed-drill-${prefix}-`));
  tempDirs.add(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      tempDirs.delete(path);
    },
  };
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** The environment every drill's Tasdeed starts from: its own port, database and admin token. */
export async function baseEnv(
  db: DrillDatabase,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: db.url,
    TASDEED_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** The number Tasdeed sends SMS from at the Twilio stand-in. */
export const TWILIO_FROM = '+15005550006';
/** The secret Tasdeed's Telegram webhook is set with at the Bot API stand-in. */
export const TG_SECRET = 'drill-webhook-secret-0123456789';

/** Env for SMS through a Twilio stand-in at `apiRoot` (the stand-in itself, or a proxy to it). */
export function twilioEnv(
  twilio: { accountSid: string; authToken: string },
  apiRoot: string,
): Record<string, string> {
  return {
    SMS_GATEWAY: 'twilio',
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM,
    TWILIO_API_ROOT: apiRoot,
  };
}

/** Env for Telegram in webhook mode against a Bot API stand-in. */
export function telegramWebhookEnv(tg: { token: string; apiRoot: string }): Record<string, string> {
  return {
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_MODE: 'webhook',
    TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
  };
}

/** A Tasdeed child process (`npm start`'s entry point). */
export class Child {
  /** Every child still running, so that an interrupted drill leaves none behind. */
  static readonly running = new Set<Child>();

  private constructor(
    private readonly proc: ReturnType<typeof spawnTasdeed>,
    readonly url: string,
  ) {
    Child.running.add(this);
    void proc.exited.then(() => Child.running.delete(this));
  }

  /** Starts `src/main.ts` with `env` and resolves once /healthz answers. */
  static async boot(env: Record<string, string>, timeoutMs = 60_000): Promise<Child> {
    const url = env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`;
    const proc = spawnTasdeed(env);
    const child = new Child(proc, url);
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (!child.alive()) {
        throw new Error(`Tasdeed exited while starting:\n${tail(proc.output(), 30)}`);
      }
      const res = await fetch(`${url}/healthz`).catch(() => null);
      if (res?.ok) return child;
      if (Date.now() > end) {
        await child.kill();
        throw new Error(`Tasdeed did not answer /healthz in ${timeoutMs} ms`);
      }
      await sleep(50);
    }
  }

  /** The process id of Tasdeed itself (node runs src/main.ts directly, no wrapper). */
  get pid(): number | undefined {
    return this.proc.child.pid;
  }

  alive(): boolean {
    return this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  output(): string {
    return this.proc.output();
  }

  /** SIGKILL without waiting (an interrupted drill). */
  killNow(): void {
    if (this.alive()) this.proc.child.kill('SIGKILL');
  }

  /** SIGKILL, and waits for the process to be gone. */
  async kill(): Promise<void> {
    if (this.alive()) this.proc.child.kill('SIGKILL');
    await this.proc.exited;
  }

  /** SIGTERM (graceful stop); resolves with the exit code (0 expected). */
  async stop(): Promise<number | null> {
    if (!this.alive()) return this.proc.child.exitCode;
    this.proc.child.kill('SIGTERM');
    return this.proc.exited;
  }
}

/** The last `lines` lines of a log. */
export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Lines of a pino log at level error or above (50+). */
export function errorLines(log: string): string[] {
  return log.split('\n').filter((line) => /"level":(5\d|60)/.test(line));
}

/** Maps `items` through `fn` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Polls `probe` every `everyMs` until it gives a truthy value; throws after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Outbox rows by status. */
export async function outboxCounts(
  db: DrillDatabase,
  where = '1 = 1',
): Promise<Record<string, number>> {
  const rows = await db.rows<{ status: string; n: number }>(
    `SELECT status, COUNT(*) AS n FROM "OutboxItem" WHERE ${where} GROUP BY status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Calls the staff API; JSON in and out. */
export async function admin(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface PaymentView {
  payment: { id: string; status: string; settlementStatus: string; heldReason: string | null };
  events: unknown[];
  audit: Array<{ action: string; fromState: string | null; toState: string | null }>;
}

export async function paymentView(url: string, ref: string): Promise<PaymentView> {
  const res = await admin(url, 'GET', `/admin/payments/${ref}`);
  if (res.status !== 200)
    throw new Error(`GET /admin/payments/${ref} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as unknown as PaymentView;
}

/** "12.3 s" */
export function secondsSince(started: number): string {
  return `${((Date.now() - started) / 1000).toFixed(1)} s`;
}

/** A number with thousands separators: 100,000. */
export function n(value: number): string {
  return value.toLocaleString('en-US');
}

/** A catalogue file with one HTTP biller and one HTTP payment channel (the local stand-ins). */
export function httpCatalogueFile(
  dir: string,
  opts: {
    billerUrl: string;
    paymentUrl: string;
    webhookSecret: string;
    billerTimeoutMs?: number;
    extraBillers?: unknown[];
  },
): string {
  return writeJson(dir, 'catalogue.json', {
    billers: [
      {
        id: 'electricity',
        name: { ar: 'الكهرباء', en: 'Electricity' },
        aliases: ['كهرباء', 'elec'],
        accountPattern: '^[0-9]{6,12}$',
        adapter: {
          type: 'http',
          baseUrl: opts.billerUrl,
          ...(opts.billerTimeoutMs ? { timeoutMs: opts.billerTimeoutMs } : {}),
        },
      },
      ...(opts.extraBillers ?? []),
    ],
    paymentChannels: [
      {
        id: 'wallet',
        name: { ar: 'محفظة', en: 'Wallet' },
        aliases: ['wallet', 'محفظة'],
        adapter: { type: 'http', baseUrl: opts.paymentUrl, webhookSecret: opts.webhookSecret },
      },
    ],
    coverage: {},
  });
}

/** An unpaid electricity bill for the fake biller. */
export function unpaidAccount(account: string, amountMinor = 2_000_000) {
  return {
    account,
    holder: 'سارة نزار القاسم',
    governorate: 'DAM',
    bills: [
      {
        id: `B-${account}`,
        period: '9-10',
        amountMinor,
        currency: 'SYP',
        dueDate: '2026-11-28',
        status: 'unpaid' as const,
      },
    ],
  };
}

/** The payment reference in a reply. */
export function paymentRef(text: string): string | null {
  return /P-[0-9A-Z]{10}/.exec(text)?.[0] ?? null;
}

/**
 * The outbox row of the reply to one inbound message (its dedupe key starts with `prefix`,
 * e.g. `sms:twilio:<MessageSid>:`) once it is finished: sent, failed or skipped.
 */
export async function finishedReply(
  db: DrillDatabase,
  prefix: string,
): Promise<{ status: string } | null> {
  const [row] = await db.rows<{ status: string }>(
    `SELECT status FROM "OutboxItem" WHERE "dedupeKey" LIKE ? ESCAPE '\\'`,
    [`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
  );
  return row && !['queued', 'leased'].includes(row.status) ? row : null;
}

/** The catalogue in a file, as Tasdeed reads it. */
export function catalogueFrom(file: string): Catalogue {
  const parsed = parseCatalogue(JSON.parse(readFileSync(file, 'utf8')), file);
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return parsed.catalogue;
}
