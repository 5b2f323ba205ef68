/**
 * Starts a whole Tasdeed in this process on a fresh SQLite file, listening on a free port, and
 * talks to it over HTTP like any outside caller. Tests that must kill the process use
 * spawnTasdeed() instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTasdeed, type Tasdeed } from '../../src/app.js';
import { loadCatalogue, parseCatalogue } from '../../src/config/catalogue.js';
import { parseEnv } from '../../src/config/env.js';
import type { Catalogue } from '../../src/core/catalogue.js';
import type { Clock } from '../../src/core/ports/clock.port.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort } from '../../src/cli/free-port.js';

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
  dbFile: string;
  close(): Promise<void>;
}

export async function startTasdeed(
  options: {
    catalogue?: Catalogue;
    env?: Record<string, string>;
    clock?: Clock;
    dir?: string;
    /** Run the cron jobs (default true); false leaves ticks to the test. */
    scheduler?: boolean;
  } = {},
): Promise<Running> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tasdeed-test-'));
  const dbFile = join(dir, 'tasdeed.db');
  const port = await freePort();
  const env = parseEnv({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${dbFile}`,
    TASDEED_ADMIN_TOKEN: 'test-admin-token-0123456789',
    ...options.env,
  });
  if (!env.ok) throw new Error(env.problems.join('\n'));
  const tasdeed = await createTasdeed({
    config: env.config,
    catalogue: options.catalogue ?? demoCatalogue(),
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
    reconcileEveryMs: 3_600_000,
    ...(options.scheduler !== undefined ? { scheduler: options.scheduler } : {}),
  });
  await tasdeed.start();
  return {
    tasdeed,
    url: `http://127.0.0.1:${port}`,
    dbFile,
    async close() {
      await tasdeed.stop();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
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
    timeoutMs = 10_000,
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

export async function waitFor<T>(
  what: string,
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
export function spawnTasdeed(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
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
