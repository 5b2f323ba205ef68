/**
 * Twilio's webhooks: the inbound-message webhook (`POST /sms/twilio/inbound`) and the status
 * callback (`POST /sms/twilio/status`). Both are form posts signed with `X-Twilio-Signature`
 * over the full URL Twilio called (`PUBLIC_URL` + path) and the form parameters.
 */
import twilio from 'twilio';
import { z } from 'zod';
import { storableValue } from '../../core/text/storable.js';
import { parsePhone } from '../phone.js';
import { classifyTwilioDeliveryError } from '../sms-errors.js';
import type {
  InboundSms,
  ParseResult,
  SmsDeliveryState,
  SmsDeliveryStatus,
  SmsKeyword,
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
 * time). docs/design.md §3: answer 403 for `invalid`; 400 (or 403) for `missing`.
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
// A repeated field counts once; the text is made storable here, after the signature was
// checked on the form as Twilio sent it.
const formString = z.preprocess(
  (v: unknown): unknown => storableValue(Array.isArray(v) ? (v as unknown[])[0] : v),
  z.string(),
);

const inboundSchema = z.object({
  MessageSid: formString.pipe(z.string().regex(SID, 'not a message SID')),
  From: formString.pipe(z.string().min(1).max(64)),
  To: formString.pipe(z.string().max(64)).optional(),
  // Twilio sends Body="" for an empty message; a missing Body is a malformed request.
  Body: formString.pipe(z.string().max(20_000)),
  // With Advanced Opt-Out on, a message that is one of the Messaging Service's keywords comes
  // with OptOutType STOP, START or HELP. Any other value is not ours to act on.
  OptOutType: formString.pipe(z.string().max(32)).optional(),
});

const OPT_OUT_TYPES: ReadonlyMap<string, SmsKeyword> = new Map<string, SmsKeyword>([
  ['STOP', 'stop'],
  ['START', 'start'],
  ['HELP', 'help'],
]);

/** Parses Twilio's inbound-message form (`From`, `To`, `Body`, `MessageSid`, `OptOutType`). */
export function parseTwilioInbound(body: unknown): ParseResult<InboundSms> {
  const parsed = inboundSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: zodError(parsed.error) };
  const { MessageSid, From, To, Body, OptOutType } = parsed.data;
  const keyword = OPT_OUT_TYPES.get((OptOutType ?? '').trim().toUpperCase()) ?? null;
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
      keyword,
    },
  };
}

/**
 * Twilio's message statuses (the Message resource's `status`) → ours, for our outbound
 * messages: `accepted` and `scheduled` (a Messaging Service took it), `queued`, `sending` are
 * still on Twilio's side; `sent` reached the carrier; `partially_delivered` is not a whole
 * delivery, so it counts as `sent`; `delivered` and
 * `read` reached the phone; `undelivered`, `failed` and `canceled` (a scheduled message
 * withdrawn) did not, and are classified by ErrorCode.
 */
const TWILIO_STATES: ReadonlyMap<string, SmsDeliveryState> = new Map<string, SmsDeliveryState>([
  ['accepted', 'queued'],
  ['scheduled', 'queued'],
  ['queued', 'queued'],
  ['sending', 'queued'],
  ['sent', 'sent'],
  ['partially_delivered', 'sent'],
  ['delivered', 'delivered'],
  ['read', 'delivered'],
  ['undelivered', 'failed'],
  ['failed', 'failed'],
  ['canceled', 'failed'],
]);

const statusSchema = z.object({
  MessageSid: formString.pipe(z.string().regex(SID, 'not a message SID')),
  MessageStatus: formString.pipe(
    z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .pipe(z.string().regex(/^[a-z_]{1,40}$/, 'not a message status')),
  ),
  ErrorCode: formString.pipe(z.string().regex(/^\d{0,6}$/, 'not an error code')).optional(),
});

/**
 * Parses a status callback (`MessageSid`, `MessageStatus`, `ErrorCode`): the receipt, or null
 * for a well-formed callback whose status says nothing about delivering one of our messages:
 * `receiving` / `received` belong to inbound messages, and a status Twilio adds later is
 * unknown to us. Those are acknowledged (200) and change nothing; a 400 would only fill
 * Twilio's error log.
 */
export function parseTwilioStatus(body: unknown): ParseResult<SmsDeliveryStatus | null> {
  const parsed = statusSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: zodError(parsed.error) };
  const { MessageSid, MessageStatus, ErrorCode } = parsed.data;
  const state = TWILIO_STATES.get(MessageStatus);
  if (!state) return { ok: true, value: null };
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
