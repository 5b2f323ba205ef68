/**
 * A local payment provider that speaks docs/design.md §5's payment protocol, for tests:
 *
 *   POST /payments          Idempotency-Key required and equal to body.reference; the body must be
 *                           exactly the contract's ({ reference, amountMinor, currency, biller, account,
 *                           billId, payer: { channel, address }, callbackUrl }), else 400.
 *                           The same key again → the same providerRef, no second payment.
 *                           → 200 { providerRef, status, instructions }
 *   GET  /payments/:ref     → 200 { status, amountMinor } | 404
 *
 * And the provider's side of the callback: `sendWebhook(callbackUrl, event, opts)` signs and POSTs an
 * event like a real provider (`X-Tasdeed-Signature: t=…,v1=…`).
 * Knobs: `token` (401 on a wrong bearer), `delayMs`, `failNext(n, status, body?)`, `down` (503),
 * `initialStatus` and `instructions` of new payments.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhook } from '../../src/core/payments/webhook-signature.js';
import type { ProviderPaymentStatus } from '../../src/core/ports/payment.port.js';
import { readBody, send, tryJson } from './http-util.js';

export interface FakePaymentOptions {
  webhookSecret: string;
  token?: string;
  delayMs?: number;
}

export interface FakeInitiation {
  idempotencyKey: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The providerRef answered (undefined when the request was refused). */
  providerRef: string | undefined;
  at: Date;
}

export interface FakeProviderPayment {
  providerRef: string;
  idempotencyKey: string;
  reference: string;
  amountMinor: number;
  callbackUrl: string;
  payer: { channel: string; address: string };
  /** The whole request body as received first. */
  request: Record<string, unknown>;
  status: ProviderPaymentStatus;
  /** What GET reports as amountMinor (null: omitted). */
  reportedAmountMinor: number | null;
}

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: Date;
}

export interface WebhookEventInput {
  providerRef: string;
  status: ProviderPaymentStatus;
  /** Default: a new UUID. */
  eventId?: string;
  /** Default: the payment's reference, when the providerRef is known. */
  reference?: string;
  /** Default: the payment's amount, when known; null is sent as null. */
  amountMinor?: number | null;
  /** Default: now. */
  occurredAt?: string;
}

export interface SendWebhookOptions {
  /** Sign with this secret instead of the channel's. */
  secret?: string;
  /** Unix seconds for `t=` (default now): use an old one for a stale signature. */
  timestamp?: number;
  /** Change the bytes after signing: true appends a space (same JSON, different bytes); a function rewrites the text. */
  tamper?: boolean | ((rawBody: string) => string);
  /** Send this header value instead of a computed one; null sends no signature header. */
  signature?: string | null;
  /** Send this raw body instead of the event (still signed unless `signature` is given). */
  rawBody?: string;
  /** Update the stored payment's status as a real provider would (only pending → final). Default true. */
  updateStatus?: boolean;
}

export interface WebhookResponse {
  status: number;
  body: string;
  json: unknown;
  /** The exact bytes sent and the signature header, for replaying. */
  sentBody: string;
  sentSignature: string | null;
}

const CONTRACT_FIELDS = [
  'reference',
  'amountMinor',
  'currency',
  'biller',
  'account',
  'billId',
  'payer',
  'callbackUrl',
];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a POST /payments body breaks the contract, or null when it keeps it. */
function contractProblem(body: unknown, key: string): string | null {
  if (!isRecord(body)) return 'body must be a JSON object';
  const keys = Object.keys(body).sort();
  const expected = [...CONTRACT_FIELDS].sort();
  if (keys.join(',') !== expected.join(','))
    return `fields must be exactly ${expected.join(', ')}; got ${keys.join(', ')}`;
  if (body.reference !== key) return 'reference must equal the Idempotency-Key';
  if (
    typeof body.amountMinor !== 'number' ||
    !Number.isSafeInteger(body.amountMinor) ||
    body.amountMinor < 0
  ) {
    return 'amountMinor must be a non-negative integer';
  }
  if (body.currency !== 'SYP') return 'currency must be SYP';
  for (const f of ['biller', 'account', 'billId', 'callbackUrl'] as const) {
    if (typeof body[f] !== 'string' || body[f] === '') return `${f} must be a non-empty string`;
  }
  const payer = body.payer;
  if (!isRecord(payer) || Object.keys(payer).sort().join(',') !== 'address,channel') {
    return 'payer must be exactly { channel, address }';
  }
  if (typeof payer.channel !== 'string' || typeof payer.address !== 'string')
    return 'payer fields must be strings';
  try {
    new URL(body.callbackUrl as string);
  } catch {
    return 'callbackUrl must be an absolute URL';
  }
  return null;
}

export class FakePaymentChannel {
  url = '';
  readonly webhookSecret: string;
  token: string | undefined;
  delayMs: number;
  down = false;
  /** Status of newly created payments. */
  initialStatus: ProviderPaymentStatus = 'pending';
  /** Instructions answered for new payments (undefined: none). */
  instructions: string | undefined = 'Approve the payment in your wallet app.';
  readonly requests: FakeRequest[] = [];
  /** Every POST /payments, repeats included. */
  readonly initiations: FakeInitiation[] = [];
  /** providerRef → payment. */
  readonly payments = new Map<string, FakeProviderPayment>();

  private readonly byKey = new Map<string, string>();
  private readonly overrides: Array<{ status: number; body: string }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private counter = 0;
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });

  constructor(options: FakePaymentOptions) {
    this.webhookSecret = options.webhookSecret;
    this.token = options.token;
    this.delayMs = options.delayMs ?? 0;
  }

  /** @internal */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Number of distinct idempotency keys that created a payment: the real effects. */
  distinctKeys(): number {
    return this.byKey.size;
  }

  /** The payment created for this reference (= our payment id = the Idempotency-Key). */
  paymentFor(reference: string): FakeProviderPayment | undefined {
    const ref = this.byKey.get(reference);
    return ref === undefined ? undefined : this.payments.get(ref);
  }

  /** Sets what GET /payments/:ref answers; amountMinor defaults to the payment's amount. */
  setStatus(providerRef: string, status: ProviderPaymentStatus, amountMinor?: number | null): void {
    const p = this.payments.get(providerRef);
    if (!p) throw new Error(`fake payment channel: no payment ${providerRef}`);
    p.status = status;
    if (amountMinor !== undefined) p.reportedAmountMinor = amountMinor;
  }

  failNext(n: number, status = 503, body?: unknown): void {
    const text =
      body === undefined
        ? JSON.stringify({ error: 'injected failure' })
        : typeof body === 'string'
          ? body
          : JSON.stringify(body);
    for (let i = 0; i < n; i++) this.overrides.push({ status, body: text });
  }

  /** The `X-Tasdeed-Signature` value for these bytes at unix time t (default now). */
  sign(
    body: string | Buffer,
    t = Math.floor(Date.now() / 1000),
    secret = this.webhookSecret,
  ): string {
    return signWebhook(secret, body, t);
  }

  /** Signs and POSTs a callback event like a real provider; returns the receiver's answer. */
  async sendWebhook(
    callbackUrl: string,
    event: WebhookEventInput,
    opts: SendWebhookOptions = {},
  ): Promise<WebhookResponse> {
    const known = this.payments.get(event.providerRef);
    const payload = {
      eventId: event.eventId ?? randomUUID(),
      providerRef: event.providerRef,
      reference: event.reference ?? known?.reference ?? null,
      status: event.status,
      amountMinor:
        event.amountMinor !== undefined ? event.amountMinor : (known?.amountMinor ?? null),
      occurredAt: event.occurredAt ?? new Date().toISOString(),
    };
    const signedBody = opts.rawBody ?? JSON.stringify(payload);
    const t = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const signature =
      opts.signature === undefined
        ? signWebhook(opts.secret ?? this.webhookSecret, signedBody, t)
        : opts.signature;
    let sentBody = signedBody;
    if (opts.tamper === true) sentBody = `${signedBody} `;
    else if (typeof opts.tamper === 'function') sentBody = opts.tamper(signedBody);

    if (
      known &&
      opts.updateStatus !== false &&
      known.status === 'pending' &&
      event.status !== 'pending'
    ) {
      known.status = event.status;
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (signature !== null) headers['X-Tasdeed-Signature'] = signature;
    const res = await fetch(callbackUrl, {
      method: 'POST',
      headers,
      body: sentBody,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text,
      json: tryJson(text),
      sentBody,
      sentSignature: signature,
    };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    this.requests.push({ method, path, headers: req.headers, body: raw, at: new Date() });
    if (method === 'POST' && new URL(path, 'http://x').pathname === '/payments') {
      const key = req.headers['idempotency-key'];
      this.initiations.push({
        idempotencyKey: typeof key === 'string' ? key : undefined,
        headers: req.headers,
        body: tryJson(raw),
        providerRef: undefined,
        at: new Date(),
      });
    }

    if (this.delayMs > 0) await this.sleep(this.delayMs);
    if (this.down) return send(res, 503, { error: 'service unavailable' });
    const override = this.overrides.shift();
    if (override) return send(res, override.status, override.body);
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      return send(res, 401, { error: 'unauthorized' });
    }

    const pathname = new URL(path, 'http://x').pathname;
    if (method === 'POST' && pathname === '/payments') return this.initiate(req, raw, res);
    const m = /^\/payments\/([^/]+)$/.exec(pathname);
    if (method === 'GET' && m) {
      const p = this.payments.get(decodeURIComponent(m[1]!));
      if (!p) return send(res, 404, { error: 'unknown payment' });
      const body: Record<string, unknown> = { status: p.status };
      if (p.reportedAmountMinor !== null) body.amountMinor = p.reportedAmountMinor;
      return send(res, 200, body);
    }
    return send(res, 404, { error: 'no such route' });
  }

  private initiate(req: IncomingMessage, raw: string, res: ServerResponse): void {
    const record = this.initiations[this.initiations.length - 1]!;
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '')
      return send(res, 400, { error: 'Idempotency-Key required' });
    const body = tryJson(raw);
    const problem = contractProblem(body, key);
    if (problem) return send(res, 400, { error: problem });
    const b = body as Record<string, unknown> & { payer: { channel: string; address: string } };

    let providerRef = this.byKey.get(key);
    if (providerRef === undefined) {
      this.counter += 1;
      providerRef = `fp_${String(this.counter).padStart(4, '0')}`;
      this.byKey.set(key, providerRef);
      this.payments.set(providerRef, {
        providerRef,
        idempotencyKey: key,
        reference: b.reference as string,
        amountMinor: b.amountMinor as number,
        callbackUrl: b.callbackUrl as string,
        payer: { channel: b.payer.channel, address: b.payer.address },
        request: b,
        status: this.initialStatus,
        reportedAmountMinor: b.amountMinor as number,
      });
    }
    record.providerRef = providerRef;
    const p = this.payments.get(providerRef)!;
    const answer: Record<string, unknown> = { providerRef, status: p.status };
    if (this.instructions !== undefined) answer.instructions = this.instructions;
    send(res, 200, answer);
  }
}

export async function startFakePaymentChannel(
  options: FakePaymentOptions,
): Promise<FakePaymentChannel> {
  const fp = new FakePaymentChannel(options);
  await fp.listen();
  return fp;
}
