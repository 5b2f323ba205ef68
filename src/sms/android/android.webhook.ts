/**
 * Webhooks of the "SMS Gateway for Android": the phone POSTs JSON events
 * `{ deviceId, event, id, payload, webhookId }` to `POST /sms/android/webhook`, signed with
 * `X-Signature` = hex HMAC-SHA256(signing key, raw body + `X-Timestamp`) where `X-Timestamp`
 * is Unix seconds. The phone retries an event (same `id`) with exponential backoff for about
 * two days until it gets a 2xx, so the event `id` is the deduplication key; the payload's
 * `messageId` is derived from the content and is not unique.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { parseStorableJson } from '../../core/text/storable.js';
import { parsePhone } from '../phone.js';
import { classifyAndroidFailureReason } from '../sms-errors.js';
import type { InboundSms, ParseResult, SmsDeliveryStatus } from '../sms-gateway.port.js';

/** Accept signatures whose timestamp is at most this far from our clock (either way). */
export const ANDROID_SIGNATURE_WINDOW_MS = 5 * 60_000;

export type AndroidSignatureCheck = 'ok' | 'missing' | 'invalid' | 'stale';

export interface AndroidSignatureInput {
  secret: string;
  /** The request body exactly as received, before any JSON parsing. */
  rawBody: Buffer | string;
  /** `X-Signature`. */
  signature: string | string[] | undefined;
  /** `X-Timestamp`. */
  timestamp: string | string[] | undefined;
  /** Milliseconds since the epoch. */
  now: number;
}

/** hex HMAC-SHA256(secret, rawBody + timestamp): what the gateway puts in `X-Signature`. */
export function signAndroidWebhook(
  secret: string,
  rawBody: Buffer | string,
  timestamp: string,
): string {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  return createHmac('sha256', secret)
    .update(Buffer.concat([body, Buffer.from(timestamp, 'utf8')]))
    .digest('hex');
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * Verifies an Android gateway webhook: signature present, timestamp within ±5 minutes, HMAC
 * equal (constant-time). docs/design.md §3: anything but `ok` is answered 401.
 */
export function verifyAndroidSignature(input: AndroidSignatureInput): AndroidSignatureCheck {
  const signature = first(input.signature)?.trim();
  const timestamp = first(input.timestamp)?.trim();
  if (!signature || !timestamp) return 'missing';
  if (!/^\d{1,12}$/.test(timestamp) || !/^[0-9a-fA-F]{64}$/.test(signature)) return 'invalid';
  const expected = Buffer.from(signAndroidWebhook(input.secret, input.rawBody, timestamp), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  // Checked after the HMAC so that a forged request learns nothing about our clock.
  if (Math.abs(input.now - Number(timestamp) * 1000) > ANDROID_SIGNATURE_WINDOW_MS) return 'stale';
  return 'ok';
}

const phone = z.string().trim().min(1).max(64);

const receivedSchema = z.object({
  messageId: z.string().nullish(),
  message: z.string().max(20_000),
  /** Newer apps: the sender; `phoneNumber` is kept for older ones. */
  sender: phone.nullish(),
  phoneNumber: phone.nullish(),
  /** Newer apps: our SIM's number, or null when the phone cannot tell. */
  recipient: phone.nullish(),
  simNumber: z.number().int().nullish(),
  receivedAt: z.string().nullish(),
});

const outboundSchema = z.object({
  messageId: z.string().min(1),
  phoneNumber: phone.nullish(),
  recipient: phone.nullish(),
  sender: phone.nullish(),
  simNumber: z.number().int().nullish(),
  sentAt: z.string().nullish(),
  deliveredAt: z.string().nullish(),
  failedAt: z.string().nullish(),
  reason: z.string().max(1000).nullish(),
});

const envelopeSchema = z.object({
  id: z.string().trim().min(1).max(200),
  event: z.string().min(1).max(64),
  deviceId: z.string().nullish(),
  webhookId: z.string().nullish(),
  payload: z.unknown(),
});

/** A verified gateway event, reduced to what Tasdeed acts on. */
export type AndroidEvent =
  | { kind: 'inbound'; eventId: string; event: 'sms:received'; message: InboundSms }
  | {
      kind: 'status';
      eventId: string;
      event: 'sms:sent' | 'sms:delivered' | 'sms:failed';
      status: SmsDeliveryStatus;
    }
  /** Events we do not act on (`system:ping`, `mms:received`, …): acknowledge and drop. */
  | { kind: 'ignored'; eventId: string; event: string };

/** Parses a gateway event body (already verified: pass the JSON-parsed raw body). */
export function parseAndroidEvent(body: unknown): ParseResult<AndroidEvent> {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) return { ok: false, error: zodError(envelope.error) };
  const { id: eventId, event, payload } = envelope.data;

  if (event === 'sms:received') {
    const p = receivedSchema.safeParse(payload);
    if (!p.success) return { ok: false, error: zodError(p.error, 'payload') };
    const from = p.data.sender ?? p.data.phoneNumber;
    if (!from) return { ok: false, error: 'payload: no sender (sender / phoneNumber)' };
    return {
      ok: true,
      value: {
        kind: 'inbound',
        eventId,
        event,
        message: {
          gateway: 'android',
          dedupeKey: eventId,
          providerMessageId: p.data.messageId ?? null,
          from: parsePhone(from) ?? from,
          to: p.data.recipient ? (parsePhone(p.data.recipient) ?? p.data.recipient) : null,
          text: p.data.message,
          receivedAt: p.data.receivedAt ?? null,
        },
      },
    };
  }

  if (event === 'sms:sent' || event === 'sms:delivered' || event === 'sms:failed') {
    const p = outboundSchema.safeParse(payload);
    if (!p.success) return { ok: false, error: zodError(p.error, 'payload') };
    const state =
      event === 'sms:sent' ? 'sent' : event === 'sms:delivered' ? 'delivered' : 'failed';
    const reason = p.data.reason ?? null;
    return {
      ok: true,
      value: {
        kind: 'status',
        eventId,
        event,
        status: {
          gateway: 'android',
          dedupeKey: eventId,
          providerMessageId: p.data.messageId,
          state,
          errorCode: state === 'failed' ? (reason ?? 'unknown') : null,
          failure: state === 'failed' ? classifyAndroidFailureReason(reason ?? 'unknown') : null,
          at: p.data.failedAt ?? p.data.deliveredAt ?? p.data.sentAt ?? null,
        },
      },
    };
  }

  return { ok: true, value: { kind: 'ignored', eventId, event } };
}

/** Parses the raw body as JSON and then as an event; for a route that verified the raw bytes. */
export function parseAndroidEventBody(rawBody: Buffer | string): ParseResult<AndroidEvent> {
  let json: unknown;
  try {
    json = parseStorableJson(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { ok: false, error: 'body is not JSON' };
  }
  return parseAndroidEvent(json);
}

function zodError(error: z.ZodError, prefix?: string): string {
  return error.issues
    .map(
      (i) =>
        `${[prefix, ...i.path].filter((x) => x !== undefined).join('.') || 'body'}: ${i.message}`,
    )
    .join('; ');
}
