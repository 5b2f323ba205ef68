/**
 * A local stand-in for the "SMS Gateway for Android" API (capcom6/android-sms-gateway), for
 * tests (`ANDROID_SMS_URL` points here):
 *
 *   POST /message and /messages (also under /3rdparty/v1 as the cloud server serves them; the
 *        `paths` option serves only one of the two, like an older stand-in or a server past
 *        /message's removal): HTTP basic auth; JSON `{ textMessage: { text } | message |
 *        dataMessage, phoneNumbers, id?, simNumber?, ttl?, withDeliveryReport?, priority? }` →
 *        202 with the message state `{ id, deviceId, state: "Pending", isHashed, isEncrypted,
 *        recipients, states }`, the id being the client's `id` when given; 409 for an `id` it
 *        already has (as the app and the server answer); 401 for wrong credentials; 400 for a
 *        body the gateway refuses; 404 for a path it does not serve.
 *
 * Knobs: `failNext(status, body?)`; `loseNextAnswer()` takes the next message and then drops
 * the connection without answering (the phone got it, the answer was lost). The phone's side of webhooks: `sendWebhook(url, event)`
 * signs (`X-Signature` = hex HMAC-SHA256(key, body + X-Timestamp), computed here as the app
 * does rather than with the production code under test) and POSTs an event like the app, and `deliverWithRetries` re-sends the same event id until it gets a 2xx, as the app
 * does for days.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAndroidMessage {
  id: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  path: string;
  at: Date;
  /** performance.now() on arrival: the clock the senders' rate gates use (same process). */
  mono: number;
}

export interface AndroidWebhookEvent {
  event: string;
  payload: Record<string, unknown>;
  /** The event id (the dedupe key); default a new random one. */
  id?: string;
  deviceId?: string;
  webhookId?: string;
}

export interface SendAndroidWebhookOptions {
  /** Sign with this key instead of the fake's. */
  secret?: string;
  /** Unix seconds for `X-Timestamp` (default now): an old one makes a stale signature. */
  timestamp?: number;
  /** Send this `X-Signature` instead of the computed one; null sends none. */
  signature?: string | null;
  /** Send this raw body instead of the event's JSON (still signed unless `signature` is given). */
  rawBody?: string;
  /** Change the bytes after signing. */
  tamper?: (rawBody: string) => string;
}

export interface AndroidWebhookResponse {
  status: number;
  body: string;
  /** The event id sent. */
  id: string;
  sentBody: string;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Which of the two send paths a stand-in serves. */
export type FakeAndroidPaths = 'both' | '/message' | '/messages';

function servesPath(paths: FakeAndroidPaths, path: string): boolean {
  const local = path.startsWith('/3rdparty/v1/') ? path.slice('/3rdparty/v1'.length) : path;
  if (local !== '/message' && local !== '/messages') return false;
  return paths === 'both' || paths === local;
}

/** What the app puts in `X-Signature` (its PayloadSingingPlugin: HmacSHA256 over body + timestamp, hex). */
function appSignature(key: string, rawBody: string, timestamp: string): string {
  return createHmac('sha256', key)
    .update(rawBody + timestamp)
    .digest('hex');
}

function newId(): string {
  return randomBytes(15).toString('base64url').slice(0, 21);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why the gateway would refuse this body (400), or null. */
function bodyProblem(body: unknown): string | null {
  if (!isRecord(body)) return 'body must be a JSON object';
  const kinds = ['textMessage', 'dataMessage', 'message'].filter((k) => body[k] !== undefined);
  if (kinds.length !== 1) return 'exactly one of textMessage, dataMessage, message is required';
  if (body.textMessage !== undefined) {
    const tm = body.textMessage;
    if (!isRecord(tm) || typeof tm.text !== 'string' || tm.text === '')
      return 'textMessage.text is required';
  }
  const numbers = body.phoneNumbers;
  if (!Array.isArray(numbers) || numbers.length === 0) return 'phoneNumbers is required';
  for (const n of numbers) {
    if (typeof n !== 'string' || !/^\+[1-9]\d{6,14}$/.test(n))
      return `invalid phone number: ${String(n)}`;
  }
  return null;
}

export class FakeAndroidSms {
  url = '';
  readonly deviceId = 'ffffffffceb0b1db0000018e937c815b';
  /** Every accepted message, in order. */
  readonly messages: FakeAndroidMessage[] = [];
  readonly requests: Array<{
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    body: string;
    /** performance.now() on arrival. */
    mono?: number;
  }> = [];
  /** The send paths served; settable between tests. */
  paths: FakeAndroidPaths = 'both';
  /** Ids of the messages taken: a second message with one of them gets 409. */
  private readonly ids = new Set<string>();
  private answersToLose = 0;
  private readonly failures: Array<{
    status: number;
    body: unknown;
    headers?: Record<string, string>;
  }> = [];
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => send(res, 500, { message: String(err) }));
  });

  constructor(
    readonly user: string,
    readonly password: string,
    /** The signing key of the app's webhooks (Settings → Webhooks → Signing Key). */
    readonly webhookSecret: string,
  ) {}

  /** @internal */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Answers the next send with this status and body (queued in order), and these headers. */
  failNext(
    status: number,
    body: unknown = { message: `fake failure ${status}` },
    headers?: Record<string, string>,
  ): this {
    this.failures.push({ status, body, ...(headers ? { headers } : {}) });
    return this;
  }

  /** Takes the next `count` messages, then drops each connection without an answer. */
  loseNextAnswer(count = 1): this {
    this.answersToLose += count;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** POSTs one signed event to `url`, as the app does. */
  async sendWebhook(
    url: string,
    event: AndroidWebhookEvent,
    options: SendAndroidWebhookOptions = {},
  ): Promise<AndroidWebhookResponse> {
    const id = event.id ?? newId();
    const raw =
      options.rawBody ??
      JSON.stringify({
        deviceId: event.deviceId ?? this.deviceId,
        event: event.event,
        id,
        payload: event.payload,
        webhookId: event.webhookId ?? 'fake-webhook',
      });
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signature =
      options.signature === undefined
        ? appSignature(options.secret ?? this.webhookSecret, raw, timestamp)
        : options.signature;
    const sentBody = options.tamper ? options.tamper(raw) : raw;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Timestamp': timestamp,
        ...(signature === null ? {} : { 'X-Signature': signature }),
      },
      body: sentBody,
    });
    return { status: res.status, body: await res.text(), id, sentBody };
  }

  /**
   * Sends the same event (same id) until a 2xx answer or `attempts` tries, each freshly
   * timestamped and signed, like the app's retry queue (without its 10 s, 20 s, 40 s… waits).
   */
  async deliverWithRetries(
    url: string,
    event: AndroidWebhookEvent,
    attempts = 3,
  ): Promise<AndroidWebhookResponse[]> {
    const id = event.id ?? newId();
    const responses: AndroidWebhookResponse[] = [];
    for (let i = 0; i < attempts; i++) {
      const r = await this.sendWebhook(url, { ...event, id });
      responses.push(r);
      if (r.status >= 200 && r.status < 300) break;
    }
    return responses;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({
      method: req.method ?? '',
      path,
      headers: req.headers,
      body: raw,
      mono: performance.now(),
    });
    if (req.method !== 'POST' || !servesPath(this.paths, path)) {
      send(res, 404, { message: 'Not Found' });
      return;
    }
    const expected = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Access to SMS Gateway"' });
      res.end();
      return;
    }
    const failure = this.failures.shift();
    if (failure) {
      send(res, failure.status, failure.body, failure.headers);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      send(res, 400, { message: 'body is not JSON' });
      return;
    }
    const problem = bodyProblem(body);
    if (problem || !isRecord(body)) {
      send(res, 400, { message: problem ?? 'bad request' });
      return;
    }
    const id = typeof body.id === 'string' && body.id !== '' ? body.id : newId();
    if (this.ids.has(id)) {
      send(res, 409, { message: 'message with the same ID already exists' });
      return;
    }
    this.ids.add(id);
    const now = new Date();
    this.messages.push({ id, body, headers: req.headers, path, at: now, mono: performance.now() });
    if (this.answersToLose > 0) {
      this.answersToLose--;
      res.socket?.destroy();
      return;
    }
    send(res, 202, {
      id,
      deviceId: this.deviceId,
      state: 'Pending',
      isHashed: false,
      isEncrypted: false,
      recipients: (body.phoneNumbers as string[]).map((phoneNumber) => ({
        phoneNumber,
        state: 'Pending',
        error: null,
      })),
      states: { Pending: now.toISOString() },
    });
  }
}

/** Starts a fake Android SMS gateway on a free local port. */
export async function startFakeAndroidSms(
  options: {
    user?: string;
    password?: string;
    webhookSecret?: string;
    /** Serve only one of the send paths (default both). */
    paths?: FakeAndroidPaths;
  } = {},
): Promise<FakeAndroidSms> {
  const fake = new FakeAndroidSms(
    options.user ?? 'sms',
    options.password ?? 'fake-android-password',
    options.webhookSecret ?? 'fake-android-signing-key',
  );
  fake.paths = options.paths ?? 'both';
  await fake.listen();
  return fake;
}
