/**
 * The "SMS Gateway for Android" adapter (capcom6/android-sms-gateway): an Android phone with a
 * local SIM sends our messages through its HTTP API. It is the adapter that works inside Syria.
 *
 * `ANDROID_SMS_URL` is the API base: the phone's local server (`http://192.168.1.10:8080`) or
 * the cloud/private server (`https://api.sms-gate.app/3rdparty/v1`). We send with
 * `POST {base}/message`, basic auth and `{ id, textMessage: { text }, phoneNumbers: [...] }`;
 * the answer is `202` with the message state (`{ id, state, recipients: [...] }`).
 *
 * Paths: the app's local server serves both `/message` and `/messages`; the cloud server
 * (android-sms-gateway/server, handlers/3rdparty.go) serves both too but marks `/message` for
 * removal and documents `/3rdparty/v1/messages`. So `/message` is tried first (what stand-ins
 * that speak the older API serve) and, when it answers 404, `/messages`; the path that worked
 * is kept for the life of this gateway (one per process).
 *
 * Idempotency: `id` is the client's id of the message (`SmsSendOptions.clientMessageId`, derived
 * from the outbox item). The app and the server both refuse a second message with an id they
 * already have (409, "message with the same ID already exists"), so a request retried after a
 * timeout, when the phone had taken the first one, sends no second SMS: 409 counts as sent.
 */
import { z } from 'zod';
import type { AndroidSmsConfig } from '../../config/env.js';
import { parseStorableJson, storableText } from '../../core/text/storable.js';
import type { E164 } from '../phone.js';
import { classifyAndroidFailure, retryAfterMs } from '../sms-errors.js';
import type {
  InboundSms,
  ParseResult,
  SmsDeliveryStatus,
  SmsFailureResult,
  SmsGatewayPort,
  SmsSendOptions,
  SmsSendResult,
} from '../sms-gateway.port.js';
import { parseAndroidEvent } from './android.webhook.js';

/** A request the phone does not answer in this long is a temporary failure. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The gateway's answer to `POST /message(s)`, as far as we use it. */
const messageStateSchema = z.object({
  id: z.string().min(1),
  state: z.string().optional(),
  recipients: z
    .array(
      z.object({
        phoneNumber: z.string(),
        state: z.string().optional(),
        error: z.string().nullish(),
      }),
    )
    .optional(),
});

export interface AndroidGatewayOptions {
  /** For tests: a fetch to use instead of the global one. */
  fetch?: typeof fetch;
  /** Request timeout in milliseconds. */
  timeoutMs?: number;
  now?: () => number;
}

/** The path tried first, and the one the cloud server documents (see the file comment). */
type SendPath = '/message' | '/messages';

export class AndroidGateway implements SmsGatewayPort {
  readonly name = 'android' as const;
  private readonly base: string;
  private readonly authorization: string;
  /** `/message` until the server answers it with 404 and `/messages` works instead. */
  private path: SendPath = '/message';

  constructor(
    config: AndroidSmsConfig,
    private readonly options: AndroidGatewayOptions = {},
  ) {
    this.base = config.url.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${config.user}:${config.password}`).toString('base64')}`;
  }

  async send(to: E164, text: string, opts: SmsSendOptions = {}): Promise<SmsSendResult> {
    const clientId = opts.clientMessageId ?? null;
    const body = JSON.stringify({
      ...(clientId ? { id: clientId } : {}),
      textMessage: { text },
      phoneNumbers: [to],
      withDeliveryReport: true,
    });
    let response = await this.post(this.path, body);
    if (!(response instanceof Response)) return response;
    if (response.status === 404 && this.path === '/message') {
      // No /message here (a server past its removal date): the same request to /messages is
      // safe, since a 404 enqueued nothing.
      const other = await this.post('/messages', body);
      if (!(other instanceof Response)) return other;
      if (other.status !== 404) this.path = '/messages';
      response = other;
    }
    const raw = await response.text().catch(() => '');
    if (response.status === 409) {
      // "Message with the same ID already exists": an earlier try of this very message got
      // through (its answer was lost). It is on the phone; sending it again would be a second SMS.
      return { status: 'sent', providerMessageId: clientId };
    }
    if (!response.ok) {
      const retry = retryAfterMs(
        response.headers.get('retry-after'),
        (this.options.now ?? Date.now)(),
      );
      return classifyAndroidFailure({
        httpStatus: response.status,
        message: errorMessage(raw),
        ...(retry !== undefined ? { retryAfterMs: retry } : {}),
      });
    }
    let json: unknown;
    try {
      json = parseStorableJson(raw);
    } catch {
      json = null;
    }
    const parsed = messageStateSchema.safeParse(json);
    if (!parsed.success) {
      // Accepted (2xx) all the same: sending again would send it twice. The gateway names a
      // message by the id we gave it; without one, its receipts cannot be matched.
      return { status: 'sent', providerMessageId: clientId };
    }
    const failed = parsed.data.recipients?.find((r) => r.state === 'Failed');
    if (parsed.data.state === 'Failed' || failed) {
      return {
        status: 'permanent',
        error: `Android gateway failed the message at once: ${failed?.error ?? 'no reason given'}`,
        code: 'FAILED',
      };
    }
    return { status: 'sent', providerMessageId: parsed.data.id };
  }

  /** One POST; the response, or the failure when none came (network, timeout). */
  private async post(path: SendPath, body: string): Promise<Response | SmsFailureResult> {
    const doFetch = this.options.fetch ?? fetch;
    try {
      return await doFetch(`${this.base}${path}`, {
        method: 'POST',
        headers: {
          Authorization: this.authorization,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? 'timed out'
          : typeof cause === 'string'
            ? cause
            : 'no answer';
      return classifyAndroidFailure({ message: reason });
    }
  }

  parseInbound(body: unknown): ParseResult<InboundSms> {
    const event = parseAndroidEvent(body);
    if (!event.ok) return event;
    return event.value.kind === 'inbound'
      ? { ok: true, value: event.value.message }
      : { ok: false, error: `not an inbound message event (${event.value.event})` };
  }

  parseDeliveryStatus(body: unknown): ParseResult<SmsDeliveryStatus> {
    const event = parseAndroidEvent(body);
    if (!event.ok) return event;
    return event.value.kind === 'status'
      ? { ok: true, value: event.value.status }
      : { ok: false, error: `not a delivery event (${event.value.event})` };
  }
}

/** The gateway's error text (`{ "message": "…" }`), short, for logs. */
function errorMessage(raw: string): string | undefined {
  try {
    const body = parseStorableJson(raw) as { message?: unknown; error?: unknown };
    const m = typeof body.message === 'string' ? body.message : body.error;
    return typeof m === 'string' ? m.slice(0, 200) : undefined;
  } catch {
    return raw ? storableText(raw.slice(0, 200)) : undefined;
  }
}
