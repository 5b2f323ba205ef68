/**
 * Starts a whole Tasdeed in this process on a fresh database (a SQLite file, or a PostgreSQL
 * database when TEST_DATABASE_URL is set), listening on a free port, and talks to it over HTTP
 * like any outside caller. Tests that must kill the process use spawnTasdeed() instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTasdeed, type Tasdeed } from '../../src/app.js';
import { migrateSqlite } from '../../src/db/migrate.js';
import { PrismaStore } from '../../src/db/prisma-store.js';
import { sqliteFileFromUrl } from '../../src/db/sqlite.js';
import { loadCatalogue, parseCatalogue } from '../../src/config/catalogue.js';
import { parseEnv } from '../../src/config/env.js';
import type { Catalogue } from '../../src/core/catalogue.js';
import type { Clock } from '../../src/core/ports/clock.port.js';
import type { OutboxItemRecord } from '../../src/core/ports/store.port.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { freePort } from '../../src/cli/free-port.js';
import {
  createMigratedTestDatabase,
  databaseNameForDir,
  dropTestDatabase,
  ensureDirDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from './pg.js';
import { WAIT_MS, waitFor } from './wait.js';

export { freePort };

/** The demo catalogue, with the simulated channels confirming fast. */
export function demoCatalogue(confirmAfterMs = 150): Catalogue {
  const loaded = loadCatalogue(null);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const c = structuredClone(loaded.catalogue);
  for (const ch of c.paymentChannels) {
    if (ch.adapter.type === 'simulated') ch.adapter.confirmAfterMs = confirmAfterMs;
  }
  return c;
}

/** A catalogue whose biller and payment channel are the local protocol stand-ins. */
export function httpCatalogue(opts: {
  billerUrl: string;
  billerToken?: string;
  paymentUrl: string;
  webhookSecret: string;
  billerTimeoutMs?: number;
}): Catalogue {
  const parsed = parseCatalogue(
    {
      billers: [
        {
          id: 'electricity',
          name: { ar: 'الكهرباء', en: 'Electricity' },
          aliases: ['كهرباء', 'elec', 'electricity'],
          accountPattern: '^[0-9]{6,12}$',
          adapter: {
            type: 'http',
            baseUrl: opts.billerUrl,
            ...(opts.billerToken ? { token: opts.billerToken } : {}),
            ...(opts.billerTimeoutMs ? { timeoutMs: opts.billerTimeoutMs } : {}),
          },
        },
      ],
      paymentChannels: [
        {
          id: 'wallet',
          name: { ar: 'محفظة الجوال', en: 'Mobile wallet' },
          aliases: ['محفظة', 'wallet'],
          adapter: { type: 'http', baseUrl: opts.paymentUrl, webhookSecret: opts.webhookSecret },
        },
      ],
      coverage: { electricity: { unavailable: ['IDL', 'RAQ', 'HAS'] } },
    },
    'test catalogue',
  );
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return parsed.catalogue;
}

export interface Running {
  tasdeed: Tasdeed;
  url: string;
  /** The DATABASE_URL it runs on (`file:…` or `postgresql://…`); see connectTo in db.ts. */
  databaseUrl: string;
  /** SQLite: the database file; null on PostgreSQL. */
  dbFile: string | null;
  close(): Promise<void>;
}

/** A test directory's database, as instances started on that directory share it. */
export interface DirDatabase {
  /** The DATABASE_URL. */
  url: string;
  /** SQLite: `dir`/tasdeed.db; null on PostgreSQL. */
  file: string | null;
}

/**
 * The migrated database of a test directory: its tasdeed.db file on SQLite; on PostgreSQL
 * (TEST_DATABASE_URL) a database named after the directory, created when missing, so that a
 * restarted or a second instance (even in a child process) finds the same data. Remove both
 * with removeTestDir().
 */
export async function databaseForDir(
  dir: string,
  options: { sqlite?: boolean } = {},
): Promise<DirDatabase> {
  if (TEST_DATABASE_URL && !options.sqlite)
    return { url: (await ensureDirDatabase(dir)).url, file: null };
  const file = join(dir, 'tasdeed.db');
  await migrateSqlite(file);
  return { url: `file:${file}`, file };
}

/** Deletes a test directory and, on PostgreSQL, the database named after it. */
export async function removeTestDir(dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  if (TEST_DATABASE_URL) await dropTestDatabase(databaseNameForDir(dir));
}

export interface StartOptions {
  catalogue?: Catalogue;
  env?: Record<string, string>;
  clock?: Clock;
  /** A directory that outlives this instance: a restart on it finds the same database. */
  dir?: string;
  /** Run the cron jobs (default true); false leaves ticks to the test. */
  scheduler?: boolean;
  /** On SQLite whatever TEST_DATABASE_URL says (for callers that read the file itself). */
  sqlite?: boolean;
  /** The instance's logger (default: silent, or TEST_LOG_LEVEL); tests that read the log pass one. */
  logger?: Logger;
}

/** A Tasdeed on a SQLite file. */
export type SqliteRunning = Running & { dbFile: string };

export async function startTasdeed(
  options: StartOptions & { sqlite: true },
): Promise<SqliteRunning>;
export async function startTasdeed(options?: StartOptions): Promise<Running>;
export async function startTasdeed(options: StartOptions = {}): Promise<Running> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tasdeed-test-'));
  // The caller's DATABASE_URL; else a database of this run's dialect: the directory's (kept
  // for a restart on it) when the caller gave one, else a fresh one dropped on close.
  let database: DirDatabase;
  let own: TestDatabase | null = null;
  const given = options.env?.DATABASE_URL;
  if (given) {
    database = { url: given, file: given.startsWith('file:') ? sqliteFileFromUrl(given) : null };
  } else if (TEST_DATABASE_URL && !options.dir && !options.sqlite) {
    own = await createMigratedTestDatabase();
    database = { url: own.url, file: null };
  } else {
    database = await databaseForDir(dir, options.sqlite ? { sqlite: true } : {});
  }
  const cleanUp = async () => {
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
    await own?.drop();
  };
  let tasdeed: Tasdeed;
  let port: number;
  try {
    port = await freePort();
    const env = parseEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TASDEED_ADMIN_TOKEN: 'test-admin-token-0123456789',
      ...options.env,
      DATABASE_URL: database.url,
    });
    if (!env.ok) throw new Error(env.problems.join('\n'));
    tasdeed = await createTasdeed({
      config: env.config,
      catalogue: options.catalogue ?? demoCatalogue(),
      logger: options.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      ...(options.clock ? { clock: options.clock } : {}),
      reconcileEveryMs: 3_600_000,
      ...(options.scheduler !== undefined ? { scheduler: options.scheduler } : {}),
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  try {
    await tasdeed.start();
  } catch (error) {
    await tasdeed.stop().catch(() => undefined);
    await cleanUp();
    throw error;
  }
  return {
    tasdeed,
    url: `http://127.0.0.1:${port}`,
    databaseUrl: database.url,
    dbFile: database.file,
    async close() {
      try {
        await tasdeed.stop();
      } finally {
        await cleanUp();
      }
    },
  };
}

/**
 * The outbox rows of an identity, oldest first, read through the instance's store. (Row ids are
 * not dense on PostgreSQL: an insert refused by a unique key still uses up a sequence value.)
 */
/**
 * A date `days` from today, as a biller writes it (YYYY-MM-DD) and as Telegram shows it
 * (dd/mm/yyyy): for bills that must stay due, or overdue, whenever the test runs. Keep well
 * away from 0 days (the product's "today" is in TASDEED_TIMEZONE).
 */
export function daysFromToday(days: number): { iso: string; shown: string } {
  const iso = new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
  const [y, m, d] = iso.split('-');
  return { iso, shown: `${d}/${m}/${y}` };
}

/**
 * Waits until nothing for the identity is in flight or due: every row it has is finished, or
 * waits for a later attempt. Then "nothing was sent" can be asserted without a fixed sleep
 * (the dispatcher's own loop may hold a row that a drain does not wait for).
 */
export async function outboxIdle(t: Running, identityId: string): Promise<void> {
  await waitFor('the outbox to have sent what is due', async () => {
    const now = Date.now();
    return (await outboxItemsOf(t, identityId)).every(
      (item) =>
        item.status !== 'leased' &&
        !(item.status === 'queued' && item.nextAttemptAt.getTime() <= now),
    );
  });
}

export async function outboxItemsOf(t: Running, identityId: string): Promise<OutboxItemRecord[]> {
  const store = t.tasdeed.store;
  if (!(store instanceof PrismaStore)) throw new Error('outboxItemsOf: not a PrismaStore');
  const ids = await store.read((db) =>
    db.outboxItem.findMany({ where: { identityId }, orderBy: { id: 'asc' }, select: { id: true } }),
  );
  const items = await Promise.all(ids.map(({ id }) => store.getOutboxItem(id)));
  return items.filter((item): item is OutboxItemRecord => item !== null);
}

/** How many outbox rows there are, whatever their kind, state or recipient. */
export async function outboxCount(t: Running): Promise<number> {
  const store = t.tasdeed.store;
  if (!(store instanceof PrismaStore)) throw new Error('outboxCount: not a PrismaStore');
  return store.read((db) => db.outboxItem.count());
}

export interface SandboxReply {
  replies: string[];
  choices: Array<{ label: string; payload: string }>;
}

/** A person on the sandbox channel. */
export class SandboxUser {
  constructor(
    readonly url: string,
    readonly channel: 'sms' | 'telegram',
    readonly from: string,
  ) {}

  async say(text: string): Promise<SandboxReply> {
    return this.post({ channel: this.channel, from: this.from, text });
  }

  async press(payload: string): Promise<SandboxReply> {
    return this.post({ channel: this.channel, from: this.from, payload });
  }

  async inbox(after = 0): Promise<Array<{ id: number; text: string; at: string }>> {
    const res = await fetch(
      `${this.url}/sandbox/messages?channel=${this.channel}&from=${encodeURIComponent(this.from)}&after=${after}`,
    );
    if (!res.ok) throw new Error(`GET /sandbox/messages → ${res.status}`);
    return ((await res.json()) as { messages: Array<{ id: number; text: string; at: string }> })
      .messages;
  }

  /** Waits until the inbox holds at least `count` messages (receipts arrive after a webhook). */
  async waitForInbox(
    count: number,
    timeoutMs = WAIT_MS,
  ): Promise<Array<{ id: number; text: string; at: string }>> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const messages = await this.inbox();
      if (messages.length >= count) return messages;
      if (Date.now() > end)
        throw new Error(
          `inbox has ${messages.length} messages, expected ${count}: ${JSON.stringify(messages)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async post(body: unknown): Promise<SandboxReply> {
    const res = await fetch(`${this.url}/sandbox/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST /sandbox/messages → ${res.status} ${await res.text()}`);
    return (await res.json()) as SandboxReply;
  }
}

export { waitFor };

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Runs `npm start`'s entry point as a child process (for SIGKILL tests and config checks). */
export function spawnTasdeed(
  env: Record<string, string>,
  options: { cwd?: string } = {},
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let out = '';
  // From another working directory (where ./data lands), tsx and main.ts by absolute address.
  const args = options.cwd
    ? [
        '--import',
        import.meta.resolve('tsx'),
        fileURLToPath(new URL('../../src/main.ts', import.meta.url)),
      ]
    : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => out, exited };
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}
