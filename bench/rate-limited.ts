/**
 * Providers that enforce their rate limits, for the dispatcher benchmark (bench/outbox.ts).
 *
 * Each is a small HTTP front that sits between Tasdeed and one of the protocol stand-ins of
 * test/support (the fake Bot API, the fake Twilio REST API, the fake Android gateway), so that
 * every answer Tasdeed gets is the real stand-in's, except that a request over the provider's
 * limit is refused the way the provider refuses it (429, with `retry_after` / `Retry-After`).
 *
 * The limit is checked when the request arrives, over a strict sliding one-second window
 * (`(t − 1000 ms, t]`, performance.now(), the clock Tasdeed's own rate gates use): a request is
 * refused when admitting it would put more than the limit into any one second. Only admitted
 * requests count, so a refused request does not make the next one fail.
 */
import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

const WINDOW_MS = 1_000;

/** Units admitted in any one-second window, at most `limit`. */
export class SlidingWindow {
  private entries: Array<{ at: number; cost: number }> = [];
  private used = 0;
  /** The most units seen in one window (at an admission). */
  maxInWindow = 0;

  constructor(readonly limit: number) {}

  private expire(now: number): void {
    while (this.entries.length > 0 && this.entries[0]!.at <= now - WINDOW_MS) {
      this.used -= this.entries.shift()!.cost;
    }
  }

  /** Admits `cost` units at `now` when the window has room (a unit larger than the limit goes alone). */
  admit(now: number, cost = 1): boolean {
    this.expire(now);
    if (this.used > 0 && this.used + cost > this.limit) return false;
    this.entries.push({ at: now, cost });
    this.used += cost;
    this.maxInWindow = Math.max(this.maxInWindow, this.used);
    return true;
  }

  /** Milliseconds until the oldest admitted unit leaves the window. */
  retryAfterMs(now: number): number {
    const oldest = this.entries[0];
    return oldest ? Math.max(1, oldest.at + WINDOW_MS - now) : 1;
  }
}

export interface IncomingCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the front refuses a request: the provider's own 429. */
export interface Refusal {
  reason: string;
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface Delivery {
  /** performance.now() when the request arrived. */
  at: number;
  /** Who it was for (chat id, phone number). */
  to: string;
  /** What the upstream stand-in answered. */
  status: number;
  /** performance.now() when the answer was sent back. */
  answeredAt: number;
}

export interface LimitPolicy {
  /** Returns who a request is for when it is a message, else null (passed through, not limited). */
  recipient(call: IncomingCall): string | null;
  /** Null admits the message (and counts it); otherwise the refusal to send back. */
  check(call: IncomingCall, to: string, now: number): Refusal | null;
}

/** A rate-limiting HTTP front to a stand-in. */
export class LimitedFront {
  url = '';
  /** Every message admitted and forwarded, in arrival order. */
  readonly deliveries: Delivery[] = [];
  /** Refusals by reason. */
  readonly refused = new Map<string, number>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly server: Server;
  private readonly upstream: URL;

  constructor(
    upstream: string,
    private readonly policy: LimitPolicy,
  ) {
    this.upstream = new URL(upstream);
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(String(error));
      });
    });
  }

  /** Forgets what was delivered and refused so far (after a warm-up); the windows stay. */
  resetCounts(): void {
    this.deliveries.length = 0;
    this.refused.clear();
  }

  get refusedTotal(): number {
    let n = 0;
    for (const v of this.refused.values()) n += v;
    return n;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    // The arrival: the whole request has been read.
    const now = performance.now();
    const call: IncomingCall = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    const to = this.policy.recipient(call);
    if (to !== null) {
      const refusal = this.policy.check(call, to, now);
      if (refusal) {
        this.refused.set(refusal.reason, (this.refused.get(refusal.reason) ?? 0) + 1);
        res.writeHead(refusal.status, {
          'Content-Type': 'application/json',
          ...refusal.headers,
        });
        res.end(JSON.stringify(refusal.body));
        return;
      }
    }
    const answer = await this.forward(call);
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
    if (to !== null)
      this.deliveries.push({ at: now, to, status: answer.status, answeredAt: performance.now() });
  }

  private forward(
    call: IncomingCall,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...call.headers, host: this.upstream.host };
      const out = request(
        {
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: call.method,
          path: call.path,
          headers,
          agent: this.agent,
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => {
            const answerHeaders = { ...res.headers };
            // The body is sent whole, not in the upstream's framing.
            delete answerHeaders['transfer-encoding'];
            delete answerHeaders.connection;
            delete answerHeaders['keep-alive'];
            const body = Buffer.concat(parts);
            answerHeaders['content-length'] = String(body.length);
            resolve({ status: res.statusCode ?? 502, headers: answerHeaders, body });
          });
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(call.body);
    });
  }
}

/** A form or JSON value as text ('' when it is not a string or a number). */
function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function params(call: IncomingCall): Record<string, unknown> {
  const type = call.headers['content-type'] ?? '';
  if (call.body === '') return {};
  if (type.includes('application/json')) return JSON.parse(call.body) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(call.body));
}

/**
 * Telegram's limits for a bot: more than `overall` messages in any one second (30), or more
 * than one a second to the same chat, gets 429 "Too Many Requests: retry after N" with
 * `parameters.retry_after` (whole seconds).
 */
export function telegramPolicy(overall = 30): LimitPolicy & { window: SlidingWindow } {
  const window = new SlidingWindow(overall);
  const lastToChat = new Map<string, number>();
  const tooMany = (reason: string, ms: number): Refusal => {
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    return {
      reason,
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${seconds}`,
        parameters: { retry_after: seconds },
      },
    };
  };
  return {
    window,
    recipient(call) {
      const method = /\/bot[^/]+\/([A-Za-z]+)/.exec(call.path)?.[1];
      if (method !== 'sendMessage') return null;
      return text(params(call).chat_id);
    },
    check(_call, chat, now) {
      const last = lastToChat.get(chat);
      if (last !== undefined && now - last < WINDOW_MS)
        return tooMany('per-chat', last + WINDOW_MS - now);
      if (!window.admit(now)) return tooMany('overall', window.retryAfterMs(now));
      lastToChat.set(chat, now);
      return null;
    },
  };
}

/**
 * Twilio's REST API over the account's rate: more than `perSecond` message parts in any one
 * second gets 429 with Twilio's error 20429 and a Retry-After header.
 */
export function twilioPolicy(
  perSecond: number,
  partsOf: (text: string) => number,
): LimitPolicy & { window: SlidingWindow } {
  const window = new SlidingWindow(perSecond);
  return {
    window,
    recipient(call) {
      if (call.method !== 'POST' || !/\/Messages\.json$/.test(call.path.split('?')[0] ?? ''))
        return null;
      return text(params(call).To);
    },
    check(call, _to, now) {
      const parts = Math.max(1, partsOf(text(params(call).Body)));
      if (window.admit(now, parts)) return null;
      return {
        reason: 'rate',
        status: 429,
        headers: { 'Retry-After': String(Math.ceil(window.retryAfterMs(now) / 1000)) },
        body: {
          code: 20429,
          message: 'Too Many Requests',
          more_info: 'https://www.twilio.com/docs/errors/20429',
          status: 429,
        },
      };
    },
  };
}

/**
 * The Android gateway's phone: more than `perSecond` message parts in any one second gets 429
 * with a Retry-After header.
 */
export function androidPolicy(
  perSecond: number,
  partsOf: (text: string) => number,
): LimitPolicy & { window: SlidingWindow } {
  const window = new SlidingWindow(perSecond);
  return {
    window,
    recipient(call) {
      const path = call.path.split('?')[0] ?? '';
      if (call.method !== 'POST' || !/\/messages?$/.test(path)) return null;
      const body = params(call) as { phoneNumbers?: unknown };
      return Array.isArray(body.phoneNumbers) ? String(body.phoneNumbers[0]) : '';
    },
    check(call, _to, now) {
      const body = params(call) as { textMessage?: { text?: unknown }; message?: unknown };
      const message = text(body.textMessage?.text) || text(body.message);
      if (window.admit(now, Math.max(1, partsOf(message)))) return null;
      return {
        reason: 'rate',
        status: 429,
        headers: { 'Retry-After': String(Math.ceil(window.retryAfterMs(now) / 1000)) },
        body: { message: 'Too Many Requests' },
      };
    },
  };
}
