/**
 * Lean protocol stand-ins for the throughput and memory figures: the Telegram Bot API
 * (`/bot<token>/<method>`) and Twilio's REST API (`POST /2010-04-01/Accounts/{sid}/Messages.json`),
 * answering as the real services do, like the test stand-ins of test/support. Unlike those, they
 * keep no record of each call (a million sendMessage calls would fill their memory, and finding
 * a chat's replies in a list of calls costs O(calls)): each message is handed to `onMessage`,
 * which counts it the way the figure needs (per address with waiters, or in a dense array).
 *
 * They accept any rate: the providers' limits are the dispatch figures' business
 * (bench/rate-limited.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A message a stand-in accepted: its recipient and its arrival (performance.now()). */
export type OnMessage = (to: string, at: number) => void;

export interface StandIn {
  url: string;
  /** What the client needs besides the URL (token, account SID, auth token). */
  credentials: Record<string, string>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { ok: false, description: String(error) });
    });
  });
  // Many keep-alive clients at once (the dispatcher's pools, the load generator's lanes).
  server.maxRequestsPerSocket = 0;
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

const BOT_USER = {
  id: 7_000_000_002,
  is_bot: true,
  first_name: 'Tasdeed',
  username: 'tasdeed_bench_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

/**
 * The Bot API: getMe, setWebhook/deleteWebhook/getWebhookInfo, setMyCommands, sendMessage,
 * answerCallbackQuery and edits, each answered `{ ok: true, result }` as Telegram does; JSON or
 * form bodies. `onMessage` gets the chat of every sendMessage.
 */
export async function startBotApi(
  onMessage: OnMessage,
  token = '654321:BENCH-token_abcdefghijklmnopqrstuvwxyz',
): Promise<StandIn> {
  let nextMessageId = 1;
  const { server, url } = await listen(async (req, res) => {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '').split('?')[0] ?? '');
    const raw = await readBody(req);
    if (!m) return json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (m[1] !== token)
      return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const params = parseParams(req.headers['content-type'] ?? '', raw);
    const now = Math.floor(Date.now() / 1000);
    switch (m[2]) {
      case 'getMe':
        return json(res, 200, { ok: true, result: BOT_USER });
      case 'sendMessage': {
        const chatId = params.chat_id;
        if (
          (typeof chatId !== 'number' && typeof chatId !== 'string') ||
          typeof params.text !== 'string'
        )
          return json(res, 400, { ok: false, error_code: 400, description: 'Bad Request' });
        onMessage(String(chatId), performance.now());
        return json(res, 200, {
          ok: true,
          result: {
            message_id: nextMessageId++,
            date: now,
            chat: { id: Number(chatId), type: 'private' },
            from: BOT_USER,
            text: params.text,
          },
        });
      }
      case 'editMessageText':
      case 'editMessageReplyMarkup':
        return json(res, 200, {
          ok: true,
          result: {
            message_id: Number(params.message_id),
            date: now,
            chat: { id: Number(params.chat_id), type: 'private' },
            text: params.text ?? '',
          },
        });
      case 'getWebhookInfo':
        return json(res, 200, { ok: true, result: { url: '', pending_update_count: 0 } });
      case 'setWebhook':
      case 'deleteWebhook':
      case 'setMyCommands':
      case 'deleteMyCommands':
      case 'answerCallbackQuery':
        return json(res, 200, { ok: true, result: true });
      default:
        return json(res, 404, {
          ok: false,
          error_code: 404,
          description: 'Not Found: method not found',
        });
    }
  });
  return { url, credentials: { token }, close: closer(server) };
}

function parseParams(contentType: string, raw: string): Record<string, unknown> {
  if (raw.length === 0) return {};
  if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    try {
      out[k] = JSON.parse(v) as unknown;
    } catch {
      out[k] = v;
    }
  }
  return out;
}

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([A-Za-z0-9]+)\/Messages\.json$/;

/**
 * Twilio's Messages resource: basic auth (AccountSid:AuthToken), a form body (To, From or
 * MessagingServiceSid, Body, StatusCallback?) → 201 with the Message resource as Twilio answers
 * it; 401 and 400 as Twilio does. `onMessage` gets the To of every accepted message.
 */
export async function startTwilioApi(
  onMessage: OnMessage,
  accountSid = `AC${'b'.repeat(32)}`,
  authToken = 'bench-twilio-auth-token',
): Promise<StandIn> {
  const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const { server, url } = await listen(async (req, res) => {
    const raw = await readBody(req);
    const m = MESSAGES_PATH.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method !== 'POST' || !m)
      return json(res, 404, { code: 20404, message: 'The requested resource was not found' });
    if (m[1] !== accountSid || req.headers.authorization !== expected)
      return json(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
    const form = Object.fromEntries(new URLSearchParams(raw));
    if (!form.To)
      return json(res, 400, { code: 21604, message: "A 'To' phone number is required." });
    if (!form.Body) return json(res, 400, { code: 21602, message: 'Message body is required.' });
    onMessage(form.To, performance.now());
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const now = new Date().toUTCString();
    return json(res, 201, {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: form.Body,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid,
      status: 'queued',
      to: form.To,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    });
  });
  return { url, credentials: { accountSid, authToken }, close: closer(server) };
}

/**
 * Counts the messages each address got and lets a caller wait for the n-th: one person talking
 * to a bot waits for its reply before writing again.
 */
export class ReplyTally {
  private readonly byAddress = new Map<string, number[]>();
  private readonly waiters = new Map<string, Array<{ n: number; wake: () => void }>>();
  total = 0;

  readonly onMessage: OnMessage = (to, at) => {
    this.total += 1;
    const list = this.byAddress.get(to) ?? [];
    list.push(at);
    this.byAddress.set(to, list);
    const waiting = this.waiters.get(to);
    if (!waiting) return;
    for (const w of [...waiting]) if (list.length >= w.n) w.wake();
  };

  count(address: string): number {
    return this.byAddress.get(address)?.length ?? 0;
  }

  /** Arrival time (performance.now()) of the n-th message (1-based) to `address`. */
  async arrival(address: string, n: number, timeoutMs: number): Promise<number | null> {
    const now = this.byAddress.get(address);
    if (now && now.length >= n) return now[n - 1]!;
    await new Promise<void>((resolve) => {
      const list = this.waiters.get(address) ?? [];
      const entry = {
        n,
        wake: () => {
          clearTimeout(timer);
          const i = list.indexOf(entry);
          if (i >= 0) list.splice(i, 1);
          if (list.length === 0) this.waiters.delete(address);
          resolve();
        },
      };
      const timer = setTimeout(entry.wake, timeoutMs);
      list.push(entry);
      this.waiters.set(address, list);
    });
    return this.byAddress.get(address)?.[n - 1] ?? null;
  }
}
