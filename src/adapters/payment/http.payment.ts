/**
 * The generic HTTP payment channel (docs/design.md §5, payment side):
 *
 *   POST {baseUrl}/payments                 (Idempotency-Key: <paymentId>) → { providerRef, status, instructions? }
 *   GET  {baseUrl}/payments/{providerRef}                                  → { status, amountMinor? }
 *
 * The channel's answer to a webhook goes to `callbackUrl`, which the caller builds
 * (`{PUBLIC_URL}/payments/webhook/{channelId}`). Any failure to get a well-formed 2xx answer is a
 * PaymentChannelUnavailableError; for `status` that means "money may have moved", never "failed".
 */
import { z } from 'zod';
import { qirsh } from '../../core/money.js';
import { parseStorableJson } from '../../core/text/storable.js';
import {
  PaymentChannelUnavailableError,
  type InitiatePaymentRequest,
  type InitiatePaymentResult,
  type PaymentPort,
  type PaymentStatusResult,
} from '../../core/ports/payment.port.js';
import { exchange, ExchangeError, snippet } from '../http-exchange.js';

export interface HttpPaymentChannelOptions {
  channelId: string;
  /** e.g. "http://127.0.0.1:9102" (a trailing slash is ignored). */
  baseUrl: string;
  token?: string;
  /** Default 10000 ms. */
  timeoutMs?: number;
}

const statusSchema = z.enum(['pending', 'succeeded', 'failed', 'expired']);

const initiateSchema = z.object({
  providerRef: z.string().min(1),
  status: statusSchema,
  instructions: z.string().nullish(),
});

const statusResultSchema = z.object({
  status: statusSchema,
  amountMinor: z.int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullish(),
});

export class HttpPaymentChannel implements PaymentPort {
  readonly channelId: string;
  private readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: HttpPaymentChannelOptions) {
    this.channelId = options.channelId;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 10000;
  }

  private fail(message: string, cause?: unknown): never {
    throw new PaymentChannelUnavailableError(
      this.channelId,
      message,
      cause === undefined ? undefined : { cause },
    );
  }

  /** Sends one request; returns the parsed JSON of a 2xx answer, throws otherwise. */
  private async call(
    method: 'GET' | 'POST',
    path: string,
    extraHeaders: Record<string, string>,
    body: string | undefined,
    callerSignal: AbortSignal | undefined,
  ): Promise<unknown> {
    const what = `${method} ${path}`;
    const headers: Record<string, string> = { Accept: 'application/json', ...extraHeaders };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let status: number;
    let text: string;
    try {
      ({ status, text } = await exchange(
        `${this.baseUrl}${path}`,
        { method, headers, body },
        this.timeoutMs,
        callerSignal,
        what,
      ));
    } catch (err) {
      if (err instanceof ExchangeError) this.fail(err.message, err.cause);
      throw err;
    }
    if (status < 200 || status >= 300) {
      this.fail(`${what} answered ${status}${text ? `: ${snippet(text)}` : ''}`, {
        status,
        body: text,
      });
    }
    try {
      return parseStorableJson(text);
    } catch (err) {
      this.fail(`${what} invalid body: not JSON (${snippet(text)})`, err);
    }
  }

  async initiate(
    request: InitiatePaymentRequest,
    signal?: AbortSignal,
  ): Promise<InitiatePaymentResult> {
    const path = '/payments';
    const body = JSON.stringify({
      reference: request.paymentId,
      amountMinor: request.amountMinor,
      currency: request.currency,
      biller: request.billerId,
      account: request.account,
      billId: request.billId,
      payer: { channel: request.payer.channel, address: request.payer.address },
      callbackUrl: request.callbackUrl,
    });
    const json = await this.call(
      'POST',
      path,
      { 'Content-Type': 'application/json', 'Idempotency-Key': request.paymentId },
      body,
      signal,
    );
    const parsed = initiateSchema.safeParse(json);
    if (!parsed.success) {
      this.fail(
        `POST ${path} invalid body: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
        parsed.error,
      );
    }
    const result: InitiatePaymentResult = {
      providerRef: parsed.data.providerRef,
      status: parsed.data.status,
    };
    if (parsed.data.instructions) result.instructions = parsed.data.instructions;
    return result;
  }

  async ping(signal?: AbortSignal): Promise<void> {
    // No health route in the protocol: asking for a payment that cannot exist proves the
    // channel answers (404), while a 5xx, a timeout or no connection mean it does not.
    const path = '/payments/tasdeed-probe';
    try {
      const { status } = await exchange(
        `${this.baseUrl}${path}`,
        {
          method: 'GET',
          headers: {
            Accept: 'application/json',
            ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
          },
          body: undefined,
        },
        this.timeoutMs,
        signal,
        `GET ${path}`,
      );
      if (status >= 500) this.fail(`GET ${path} answered ${status}`);
    } catch (err) {
      if (err instanceof ExchangeError) this.fail(err.message, err.cause);
      throw err;
    }
  }

  async status(providerRef: string, signal?: AbortSignal): Promise<PaymentStatusResult> {
    const path = `/payments/${encodeURIComponent(providerRef)}`;
    const json = await this.call('GET', path, {}, undefined, signal);
    const parsed = statusResultSchema.safeParse(json);
    if (!parsed.success) {
      this.fail(
        `GET ${path} invalid body: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
        parsed.error,
      );
    }
    const result: PaymentStatusResult = { status: parsed.data.status };
    if (parsed.data.amountMinor !== undefined && parsed.data.amountMinor !== null) {
      result.amountMinor = qirsh(parsed.data.amountMinor);
    }
    return result;
  }
}
