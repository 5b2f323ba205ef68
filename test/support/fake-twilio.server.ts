/**
 * A local stand-in for Twilio's REST API, for tests (the client's `TWILIO_API_ROOT` points here):
 *
 *   POST /2010-04-01/Accounts/{AccountSid}/Messages.json
 *        HTTP basic auth (AccountSid:AuthToken), form body (To, From | MessagingServiceSid, Body,
 *        StatusCallback?) → 201 with a Message resource as Twilio answers it (sid, status
 *        "queued", num_segments, …); 401 with Twilio's error JSON for wrong credentials;
 *        400 code 21602 without Body, 21604 without To.
 *
 * Knobs: `failNext({ status, code, message? })` answers the next send with that HTTP status and
 * Twilio error code (e.g. 400/21610 unsubscribed, 400/21211 invalid number, 429/20429,
 * 500/20500); queued failures are used in order. `sendSignedWebhook()` posts a form to one of
 * our webhook URLs signed with `X-Twilio-Signature`, as Twilio does.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

export interface FakeTwilioMessage {
  sid: string;
  accountSid: string;
  /** The form fields exactly as received. */
  form: Record<string, string>;
  headers: IncomingHttpHeaders;
  at: Date;
  /** performance.now() on arrival: the clock the senders' rate gates use (same process). */
  mono: number;
}

export interface FakeTwilioFailure {
  status: number;
  code: number;
  message?: string;
}

export interface SignedWebhookOptions {
  /** Sign with this token instead of the server's auth token. */
  authToken?: string;
  /** Send this signature instead; null sends none. */
  signature?: string | null;
  /** Sign this URL instead of the one posted to (a proxy rewriting the host, …). */
  signedUrl?: string;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([A-Za-z0-9]+)\/Messages\.json$/;

export class FakeTwilio {
  url = '';
  /** Every accepted message, in order. */
  readonly messages: FakeTwilioMessage[] = [];
  /** Every request, accepted or not. */
  readonly requests: Array<{
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    body: string;
  }> = [];
  private readonly failures: FakeTwilioFailure[] = [];
  private readonly failuresTo = new Map<string, FakeTwilioFailure[]>();
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => send(res, 500, { message: String(err) }));
  });

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
  ) {}

  /** @internal */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Answers the next send with this failure (queued in order). */
  failNext(failure: FakeTwilioFailure): this {
    this.failures.push(failure);
    return this;
  }

  /** Answers the next `count` sends to the number `to` with this failure. */
  failTo(to: string, failure: FakeTwilioFailure, count = 1): this {
    const list = this.failuresTo.get(to) ?? [];
    for (let i = 0; i < count; i++) list.push(failure);
    this.failuresTo.set(to, list);
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * POSTs a form to `url` signed like Twilio (`X-Twilio-Signature` over the URL and the params),
   * e.g. an inbound message or a status callback.
   */
  async sendSignedWebhook(
    url: string,
    params: Record<string, string>,
    options: SignedWebhookOptions = {},
  ): Promise<{ status: number; body: string }> {
    const signature =
      options.signature === undefined
        ? twilio.getExpectedTwilioSignature(
            options.authToken ?? this.authToken,
            options.signedUrl ?? url,
            params,
          )
        : options.signature;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(signature === null ? {} : { 'X-Twilio-Signature': signature }),
      },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, body: await res.text() };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
    const m = MESSAGES_PATH.exec(path);
    if (req.method !== 'POST' || !m) {
      send(res, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      return;
    }
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}`;
    if (m[1] !== this.accountSid || req.headers.authorization !== expected) {
      send(res, 401, {
        code: 20003,
        message: 'Authenticate',
        more_info: 'https://www.twilio.com/docs/errors/20003',
        status: 401,
      });
      return;
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    const failure = this.failuresTo.get(form.To ?? '')?.shift() ?? this.failures.shift();
    if (failure) {
      send(res, failure.status, {
        code: failure.code,
        message: failure.message ?? `fake failure ${failure.code}`,
        more_info: `https://www.twilio.com/docs/errors/${failure.code}`,
        status: failure.status,
      });
      return;
    }
    if (!form.To) {
      send(res, 400, { code: 21604, message: "A 'To' phone number is required.", status: 400 });
      return;
    }
    if (!form.Body) {
      send(res, 400, { code: 21602, message: 'Message body is required.', status: 400 });
      return;
    }
    if (!form.From && !form.MessagingServiceSid) {
      send(res, 400, { code: 21603, message: "A 'From' phone number is required.", status: 400 });
      return;
    }
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const now = new Date();
    this.messages.push({
      sid,
      accountSid: m[1],
      form,
      headers: req.headers,
      at: now,
      mono: performance.now(),
    });
    send(res, 201, {
      account_sid: m[1],
      api_version: '2010-04-01',
      body: form.Body,
      date_created: now.toUTCString(),
      date_sent: null,
      date_updated: now.toUTCString(),
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
      subresource_uris: { media: `/2010-04-01/Accounts/${m[1]}/Messages/${sid}/Media.json` },
      to: form.To,
      uri: `/2010-04-01/Accounts/${m[1]}/Messages/${sid}.json`,
    });
  }
}

/** Starts a fake Twilio on a free local port. */
export async function startFakeTwilio(
  accountSid = `AC${'0'.repeat(32)}`,
  authToken = 'fake-twilio-auth-token',
): Promise<FakeTwilio> {
  const fake = new FakeTwilio(accountSid, authToken);
  await fake.listen();
  return fake;
}
