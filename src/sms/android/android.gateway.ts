/**
 * The "SMS Gateway for Android" adapter (capcom6/android-sms-gateway): an Android phone with a
 * local SIM sends our messages through its HTTP API. It is the adapter that works inside Syria.
 *
 * `ANDROID_SMS_URL` is the API base: the phone's local server (`http://192.168.1.10:8080`) or
 * the cloud/private server (`https://api.sms-gate.app/3rdparty/v1`); both take
 * `POST {base}/message` with basic auth and `{ textMessage: { text }, phoneNumbers: [...] }`,
 * and answer `202` with the message state (`{ id, state, recipients: [...] }`).
 */
import { z } from 'zod';
import type { AndroidSmsConfig } from '../../config/env.js';
import type { E164 } from '../phone.js';
import { classifyAndroidFailure, retryAfterMs } from '../sms-errors.js';
import type {
  InboundSms,
  ParseResult,
  SmsDeliveryStatus,
  SmsGatewayPort,
  SmsSendOptions,
  SmsSendResult,
} from '../sms-gateway.port.js';
import { parseAndroidEvent } from './android.webhook.js';

/** A request the phone does not answer in this long is a temporary failure. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The gateway's answer to `POST /message`, as far as we use it. */
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
  /** Sends `clientMessageId` as the message's `id` (the gateway then recognises a retried request). */
  sendClientIds?: boolean;
  now?: () => number;
}

export class AndroidGateway implements SmsGatewayPort {
  readonly name = 'android' as const;
  private readonly endpoint: string;
  private readonly authorization: string;

  constructor(
    config: AndroidSmsConfig,
    private readonly options: AndroidGatewayOptions = {},
  ) {
    this.endpoint = `${config.url.replace(/\/+$/, '')}/message`;
    this.authorization = `Basic ${Buffer.from(`${config.user}:${config.password}`).toString('base64')}`;
  }

  async send(to: E164, text: string, opts: SmsSendOptions = {}): Promise<SmsSendResult> {
    const body = {
      ...(this.options.sendClientIds && opts.clientMessageId ? { id: opts.clientMessageId } : {}),
      textMessage: { text },
      phoneNumbers: [to],
      withDeliveryReport: true,
    };
    const doFetch = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await doFetch(this.endpoint, {
        method: 'POST',
        headers: {
          Authorization: this.authorization,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify(body),
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
    const raw = await response.text().catch(() => '');
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
      json = JSON.parse(raw);
    } catch {
      json = null;
    }
    const parsed = messageStateSchema.safeParse(json);
    if (!parsed.success) {
      // Accepted, but with no id we could never match its delivery events.
      return {
        status: 'temporary',
        error: `Android gateway answered HTTP ${response.status} without a message id`,
        code: 'BAD_RESPONSE',
      };
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
    const body = JSON.parse(raw) as { message?: unknown; error?: unknown };
    const m = typeof body.message === 'string' ? body.message : body.error;
    return typeof m === 'string' ? m.slice(0, 200) : undefined;
  } catch {
    return raw ? raw.slice(0, 200) : undefined;
  }
}
