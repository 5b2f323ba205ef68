/**
 * The generic HTTP biller (docs/design.md §5, biller side):
 *
 *   GET  {baseUrl}/accounts/{account}/bills          → 200 account | 404 unknown | else unavailable
 *   POST {baseUrl}/bills/{billId}/settlements        → 2xx acknowledged | 409 conflict | else unavailable
 *
 * Every call carries `Authorization: Bearer <token>` when a token is configured and is bounded by
 * `timeoutMs` (5 s by default), combined with the caller's own signal.
 */
import { z } from 'zod';
import { GOVERNORATES } from '../../core/domain.js';
import { qirsh } from '../../core/money.js';
import { parseStorableJson } from '../../core/text/storable.js';
import {
  BillerUnavailableError,
  type BillerAccount,
  type BillerPort,
  type SettlementRequest,
  type SettlementResult,
} from '../../core/ports/biller.port.js';
import { exchange as httpExchange, ExchangeError, snippet } from '../http-exchange.js';

export interface HttpBillerOptions {
  billerId: string;
  /** e.g. "http://127.0.0.1:9101" or "https://biller.example/api/v1" (a trailing slash is ignored). */
  baseUrl: string;
  token?: string;
  /** No answer within this many ms = unavailable. Default 5000 (docs/design.md §5). */
  timeoutMs?: number;
}

function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const billSchema = z.object({
  // Bill ids are opaque; a biller that sends numbers gets them back as strings.
  id: z.union([z.string().min(1), z.int().nonnegative()]).transform(String),
  period: z.string().min(1),
  amountMinor: z.int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  currency: z.literal('SYP'),
  dueDate: z.string().refine(isCalendarDate, { message: 'expected a date YYYY-MM-DD' }),
  status: z.enum(['unpaid', 'paid']),
});

const accountSchema = z.object({
  account: z.string().min(1),
  holder: z.string(),
  governorate: z.string().min(1),
  bills: z.array(billSchema),
});

/**
 * Billers should send the governorate code (DAM, ALE, …); a code in another case or the
 * governorate's Arabic or English name is mapped to the code, anything else is kept as sent.
 */
function normaliseGovernorate(value: string): string {
  const v = value.trim();
  const found = GOVERNORATES.find(
    (g) => g.code === v.toUpperCase() || g.ar === v || g.en.toLowerCase() === v.toLowerCase(),
  );
  return found ? found.code : v;
}

/** A complete answer (status and body text) or a BillerUnavailableError saying why there is none. */
async function exchange(
  billerId: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  what: string,
): Promise<{ status: number; text: string }> {
  try {
    return await httpExchange(url, init, timeoutMs, callerSignal, what);
  } catch (err) {
    if (err instanceof ExchangeError)
      throw new BillerUnavailableError(billerId, err.message, { cause: err.cause });
    throw err;
  }
}

export class HttpBiller implements BillerPort {
  readonly billerId: string;
  private readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: HttpBillerOptions) {
    this.billerId = options.billerId;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return headers;
  }

  async getAccount(account: string, signal?: AbortSignal): Promise<BillerAccount | null> {
    const path = `/accounts/${encodeURIComponent(account)}/bills`;
    const what = `GET ${path}`;
    const { status, text } = await exchange(
      this.billerId,
      `${this.baseUrl}${path}`,
      { method: 'GET', headers: this.headers() },
      this.timeoutMs,
      signal,
      what,
    );
    if (status === 404) return null;
    if (status !== 200) {
      throw new BillerUnavailableError(
        this.billerId,
        `${what} answered ${status}${text ? `: ${snippet(text)}` : ''}`,
        { cause: { status, body: text } },
      );
    }
    let json: unknown;
    try {
      json = parseStorableJson(text);
    } catch (err) {
      throw new BillerUnavailableError(
        this.billerId,
        `${what} invalid body: not JSON (${snippet(text)})`,
        {
          cause: err,
        },
      );
    }
    const parsed = accountSchema.safeParse(json);
    if (!parsed.success) {
      throw new BillerUnavailableError(
        this.billerId,
        `${what} invalid body: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
        { cause: parsed.error },
      );
    }
    const body = parsed.data;
    if (body.account !== account) {
      // Never show one subscriber another's bills.
      throw new BillerUnavailableError(
        this.billerId,
        `${what} invalid body: it is for account ${JSON.stringify(body.account)}`,
      );
    }
    return {
      account: body.account,
      holder: body.holder,
      governorate: normaliseGovernorate(body.governorate),
      bills: body.bills.map((b) => ({
        id: b.id,
        period: b.period,
        amountMinor: qirsh(b.amountMinor),
        currency: b.currency,
        dueDate: b.dueDate,
        status: b.status,
      })),
    };
  }

  async settle(request: SettlementRequest, signal?: AbortSignal): Promise<SettlementResult> {
    const path = `/bills/${encodeURIComponent(request.billId)}/settlements`;
    const what = `POST ${path}`;
    const body = JSON.stringify({
      paymentId: request.paymentId,
      amountMinor: request.amountMinor,
      channel: request.channel,
      providerRef: request.providerRef,
      paidAt: request.paidAt.toISOString(),
    });
    const { status, text } = await exchange(
      this.billerId,
      `${this.baseUrl}${path}`,
      {
        method: 'POST',
        headers: this.headers({
          'Content-Type': 'application/json',
          'Idempotency-Key': request.paymentId,
        }),
        body,
      },
      this.timeoutMs,
      signal,
      what,
    );
    if (status >= 200 && status < 300) return 'acknowledged';
    if (status === 409) return 'conflict';
    throw new BillerUnavailableError(
      this.billerId,
      `${what} answered ${status}${text ? `: ${snippet(text)}` : ''}`,
      { cause: { status, body: text } },
    );
  }
}
