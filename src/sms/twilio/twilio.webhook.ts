/**
 * Twilio's webhooks: the inbound-message webhook (`POST /sms/twilio/inbound`) and the status
 * callback (`POST /sms/twilio/status`). Both are form posts signed with `X-Twilio-Signature`
 * over the full URL Twilio called (`PUBLIC_URL` + path) and the form parameters.
 */
import twilio from 'twilio';
import { z } from 'zod';
import { parsePhone } from '../phone.js';
import { classifyTwilioDeliveryError } from '../sms-errors.js';
import type {
  InboundSms,
  ParseResult,
  SmsDeliveryState,
  SmsDeliveryStatus,
} from '../sms-gateway.port.js';

export type SignatureCheck = 'ok' | 'missing' | 'invalid';

/** A form body as Express's `urlencoded({ extended: false })` gives it. */
export type FormParams = Record<string, string | string[] | undefined>;

export interface TwilioSignatureInput {
  authToken: string;
  /** `PUBLIC_URL` without a trailing slash. */
  publicUrl: string;
  /** The request path with its query string, as received (`/sms/twilio/status?x=1`). */
  path: string;
  /** The `X-Twilio-Signature` header. */
  signature: string | string[] | undefined;
  /** The parsed form body. */
  params: FormParams;
}

/** The URL Twilio signed: the public base URL and the path it called. */
export function twilioWebhookUrl(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * Checks `X-Twilio-Signature` with the SDK's `validateRequest` (which compares in constant
 * time). DESIGN §3: answer 403 for `invalid`; 400 (or 403) for `missing`.
 */
export function verifyTwilioSignature(input: TwilioSignatureInput): SignatureCheck {
  const header = Array.isArray(input.signature) ? input.signature[0] : input.signature;
  if (header === undefined || header.trim() === '') return 'missing';
  const url = twilioWebhookUrl(input.publicUrl, input.path);
  const params: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(input.params)) if (v !== undefined) params[k] = v;
  try {
    return twilio.validateRequest(input.authToken, header, url, params) ? 'ok' : 'invalid';
  } catch {
    return 'invalid';
  }
}

/** Twilio SIDs: two letters and 32 hex digits (SM…, MM…); kept loose, but no path or markup characters. */
const SID = /^[A-Za-z0-9]{10,64}$/;
const formString = z.preprocess(
  (v: unknown): unknown => (Array.isArray(v) ? (v as unknown[])[0] : v),
  z.string(),
);

const inboundSchema = z.object({
  MessageSid: formString.pipe(z.string().regex(SID, 'not a message SID')),
  From: formString.pipe(z.string().min(1).max(64)),
  To: formString.pipe(z.string().max(64)).optional(),
  // Twilio sends Body="" for an empty message; a missing Body is a malformed request.
  Body: formString.pipe(z.string().max(20_000)),
});

/** Parses Twilio's inbound-message form (`From`, `To`, `Body`, `MessageSid`). */
export function parseTwilioInbound(body: unknown): ParseResult<InboundSms> {
  const parsed = inboundSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: zodError(parsed.error) };
  const { MessageSid, From, To, Body } = parsed.data;
  return {
    ok: true,
    value: {
      gateway: 'twilio',
      dedupeKey: MessageSid,
      providerMessageId: MessageSid,
      from: parsePhone(From) ?? From.trim(),
      to: To ? (parsePhone(To) ?? To) : null,
      text: Body,
      receivedAt: null,
    },
  };
}

/** Twilio's message statuses → ours. */
const TWILIO_STATES: Record<string, SmsDeliveryState> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

const statusSchema = z.object({
  MessageSid: formString.pipe(z.string().regex(SID, 'not a message SID')),
  MessageStatus: formString.pipe(
    z
      .string()
      .transform((s) => s.toLowerCase())
      .refine((s) => s in TWILIO_STATES, 'not a message status'),
  ),
  ErrorCode: formString.pipe(z.string().regex(/^\d{0,6}$/, 'not an error code')).optional(),
});

/** Parses a status callback (`MessageSid`, `MessageStatus`, `ErrorCode`). */
export function parseTwilioStatus(body: unknown): ParseResult<SmsDeliveryStatus> {
  const parsed = statusSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: zodError(parsed.error) };
  const { MessageSid, MessageStatus, ErrorCode } = parsed.data;
  const state = TWILIO_STATES[MessageStatus] ?? 'queued';
  const errorCode = ErrorCode ? ErrorCode : null;
  return {
    ok: true,
    value: {
      gateway: 'twilio',
      // Twilio calls once per status change, and may repeat one: the pair is the event.
      dedupeKey: `${MessageSid}:${MessageStatus}`,
      providerMessageId: MessageSid,
      state,
      errorCode,
      failure: state === 'failed' ? classifyTwilioDeliveryError(errorCode, MessageStatus) : null,
      at: null,
    },
  };
}

function zodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}
