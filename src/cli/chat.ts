/**
 * `npm run chat`: a terminal conversation with Tasdeed as an SMS or Telegram user, through the
 * sandbox channel. It talks to a running Tasdeed (`--url`, default http://localhost:$PORT) or,
 * when none answers, starts one in this process on the embedded defaults.
 *
 *   npm run chat                       # as an SMS user, in Arabic or English
 *   npm run chat -- --telegram         # as a Telegram user (numbered buttons)
 *   npm run chat -- --from +963944123456 --url http://localhost:3000
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createTasdeed, type Tasdeed } from '../app.js';
import { loadCatalogue } from '../config/catalogue.js';
import { parseEnv } from '../config/env.js';
import { createLogger } from '../observability/logger.js';
import { freePort } from './free-port.js';

const USAGE =
  'usage: npm run chat -- [--telegram | --sms] [--from <sender>] [--url <base URL>] [--linger <seconds>]';

function parseOptions() {
  try {
    return parseArgs({
      options: {
        telegram: { type: 'boolean', default: false },
        sms: { type: 'boolean', default: false },
        from: { type: 'string' },
        url: { type: 'string' },
        linger: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    // An unknown or incomplete option: one line saying which, and how to call it.
    process.stderr.write(
      `chat: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`,
    );
    process.exit(2);
  }
}

const { values } = parseOptions();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const channel = values.telegram ? 'telegram' : 'sms';
const from = values.from ?? (channel === 'sms' ? '+963944000111' : 'terminal-user');
let choices: Array<{ label: string; payload: string }> = [];
let lastSeen = 0;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/sandbox/messages?channel=sms&from=probe`, {
      signal: AbortSignal.timeout(1500),
    });
    return res.ok;
  } catch {
    return false;
  }
}

async function connect(): Promise<{ url: string; local: Tasdeed | null }> {
  const explicit = values.url?.replace(/\/$/, '');
  const url = explicit ?? `http://localhost:${process.env.PORT ?? '3000'}`;
  if (await answers(url)) return { url, local: null };
  if (explicit) {
    process.stderr.write(
      `chat: nothing answers at ${explicit}/sandbox (is Tasdeed running with the sandbox on?)\n`,
    );
    process.exit(1);
  }
  const port = await freePort();
  const env = parseEnv({
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TASDEED_SANDBOX: '1',
  });
  if (!env.ok) {
    for (const p of env.problems) process.stderr.write(`chat: ${p}\n`);
    process.exit(1);
  }
  const catalogue = loadCatalogue(env.config.cataloguePath);
  if (!catalogue.ok) {
    for (const p of catalogue.problems) process.stderr.write(`chat: ${p}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
  const local = await createTasdeed({
    config: env.config,
    catalogue: catalogue.catalogue,
    logger,
    reconcileEveryMs: 5_000,
  });
  await local.start();
  return { url: `http://127.0.0.1:${port}`, local };
}

function print(lines: string[]): void {
  for (const line of lines) process.stdout.write(`${line}\n`);
}

async function send(url: string, line: string): Promise<void> {
  let body: Record<string, string> = { channel, from, text: line };
  const n = /^\s*(\d{1,2})\s*$/.exec(line);
  // On Telegram a number picks a button; on SMS the number itself is the answer.
  if (channel === 'telegram' && n && choices[Number(n[1]) - 1]) {
    body = { channel, from, payload: choices[Number(n[1]) - 1]!.payload };
  }
  const res = await fetch(`${url}/sandbox/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = (await res.json()) as {
    replies?: string[];
    choices?: Array<{ label: string; payload: string }>;
  };
  print((data.replies ?? []).map((r) => `< ${r.replace(/\n/g, '\n  ')}`));
  choices = data.choices ?? [];
  if (channel === 'telegram' && choices.length > 0)
    print(choices.map((c, i) => `  [${i + 1}] ${c.label}`));
}

let polling: Promise<void> | null = null;

/** One poll at a time: two overlapping polls would both read from the same `after`. */
function poll(url: string): Promise<void> {
  polling ??= pollOnce(url).finally(() => {
    polling = null;
  });
  return polling;
}

async function pollOnce(url: string): Promise<void> {
  try {
    const res = await fetch(
      `${url}/sandbox/messages?channel=${channel}&from=${encodeURIComponent(from)}&after=${lastSeen}`,
    );
    const data = (await res.json()) as { messages?: Array<{ id: number; text: string }> };
    for (const m of data.messages ?? []) {
      lastSeen = Math.max(lastSeen, m.id);
      print([`<< ${m.text.replace(/\n/g, '\n   ')}`]);
    }
  } catch {
    // The server may be restarting; the next poll catches up (messages are kept).
  }
}

async function main(): Promise<void> {
  const { url, local } = await connect();
  await poll(url); // skip nothing: show what waited for this identity
  process.stderr.write(
    `Tasdeed chat as ${channel.toUpperCase()} user ${from} at ${url}${local ? ' (started here)' : ''}. Ctrl-D to leave.\n`,
  );
  const timer = setInterval(() => void poll(url), 1000);
  const rl = createInterface({ input: process.stdin, terminal: false });
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    queue = queue.then(() => {
      if (!process.stdin.isTTY) print([`> ${line}`]);
      return send(url, line).catch((error: unknown) => {
        process.stderr.write(`chat: ${error instanceof Error ? error.message : String(error)}\n`);
      });
    });
  });
  await new Promise<void>((resolve) => rl.once('close', resolve));
  await queue;
  const linger = Number(values.linger ?? (process.stdin.isTTY ? 0 : 3)) * 1000;
  if (linger > 0) {
    const end = Date.now() + linger;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 500));
      await poll(url);
    }
  }
  clearInterval(timer);
  await local?.stop();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`chat: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
