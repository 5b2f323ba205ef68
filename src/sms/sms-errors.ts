/**
 * Provider failures mapped to what the outbox does with them, in one place for every gateway
 * (docs/design.md §8): temporary → back off and retry; permanent → fail this message only; opted-out →
 * the number unsubscribed, stop every message to it.
 */
import type { SmsFailureResult } from './sms-gateway.port.js';

/** Twilio: the recipient replied STOP to our number; Twilio refuses further messages. */
export const TWILIO_UNSUBSCRIBED = 21610;

/**
 * Twilio codes that mean "this message can never go to this number": invalid `To` (21211),
 * not a mobile number (21614), unroutable To/From pair (21612), region not enabled (21408),
 * `From` cannot reach this destination (21606), invalid or unverified numbers (21217, 21219), and delivery-time equivalents reported in
 * status callbacks: unreachable (30003), unknown destination (30005), landline (30006).
 */
export const TWILIO_PERMANENT_CODES: ReadonlySet<number> = new Set([
  21211, 21614, 21612, 21408, 21606, 21217, 21219, 30003, 30005, 30006,
]);

/**
 * Twilio codes worth another try later: too many requests (20429), queue overflow (30001),
 * carrier or network trouble (30008 "unknown error", 30009 missing segment, 30017 carrier
 * congestion), internal errors (20500, 20503).
 */
export const TWILIO_TEMPORARY_CODES: ReadonlySet<number> = new Set([
  20429, 30001, 30008, 30009, 30017, 20500, 20503,
]);

/** Twilio codes that mean our own configuration is wrong (credentials, account): fail, and say so. */
export const TWILIO_CONFIG_CODES: ReadonlySet<number> = new Set([20003, 20404, 20005, 21606]);

/** What a provider answered, as far as classification needs it. */
export interface ProviderFailure {
  /** HTTP status of the API answer; undefined when no answer came (network, timeout). */
  httpStatus?: number;
  /** The provider's own error code (Twilio's numeric code), when it gave one. */
  code?: number | string;
  message?: string;
  /** From a `Retry-After` header, when present. */
  retryAfterMs?: number;
}

function codeText(f: ProviderFailure): string {
  if (f.code !== undefined && f.code !== null && String(f.code) !== '') return String(f.code);
  if (f.httpStatus !== undefined) return `HTTP_${f.httpStatus}`;
  return 'NETWORK';
}

function temporary(f: ProviderFailure, error: string): SmsFailureResult {
  return {
    status: 'temporary',
    error,
    code: codeText(f),
    ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}),
  };
}

/** Classifies a Twilio REST failure (or a Twilio status-callback `ErrorCode`). */
export function classifyTwilioFailure(f: ProviderFailure): SmsFailureResult {
  const code = f.code === undefined ? undefined : Number(f.code);
  const detail = f.message ? `: ${f.message}` : '';
  if (code === TWILIO_UNSUBSCRIBED) {
    return {
      status: 'opted-out',
      error: `Twilio ${code}: the recipient unsubscribed (replied STOP)`,
      code: String(code),
    };
  }
  if (code !== undefined && TWILIO_TEMPORARY_CODES.has(code)) {
    return temporary(f, `Twilio ${code}${detail}`);
  }
  if (code !== undefined && TWILIO_CONFIG_CODES.has(code)) {
    return {
      status: 'permanent',
      error: `Twilio ${code}${detail} (check TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM)`,
      code: String(code),
    };
  }
  if (code !== undefined && TWILIO_PERMANENT_CODES.has(code)) {
    return { status: 'permanent', error: `Twilio ${code}${detail}`, code: String(code) };
  }
  return classifyHttp(f, 'Twilio');
}

/**
 * Classifies the `ErrorCode` of a Twilio status callback for a message that ended `failed` or
 * `undelivered`: there is no HTTP status here, so an unknown code is permanent for this message.
 */
export function classifyTwilioDeliveryError(code: string | null, status: string): SmsFailureResult {
  if (code === null || code === '') {
    return { status: 'permanent', error: `Twilio: message ${status}`, code: status };
  }
  const n = Number(code);
  if (n === TWILIO_UNSUBSCRIBED || TWILIO_TEMPORARY_CODES.has(n)) {
    return classifyTwilioFailure({ code: n });
  }
  return { status: 'permanent', error: `Twilio ${code}: message ${status}`, code };
}

/**
 * Classifies a failure of the Android gateway's API. 401 means wrong ANDROID_SMS_USER /
 * ANDROID_SMS_PASSWORD and 400 a request it will never accept: both permanent (retrying cannot
 * help, and the operator must fix the configuration); 429, 5xx and no answer are temporary.
 */
export function classifyAndroidFailure(f: ProviderFailure): SmsFailureResult {
  const detail = f.message ? `: ${f.message}` : '';
  if (f.httpStatus === 401 || f.httpStatus === 403) {
    return {
      status: 'permanent',
      error: `Android gateway refused the credentials (HTTP ${f.httpStatus}); check ANDROID_SMS_USER and ANDROID_SMS_PASSWORD`,
      code: codeText(f),
    };
  }
  if (f.httpStatus === 400) {
    return {
      status: 'permanent',
      error: `Android gateway rejected the message (HTTP 400)${detail}`,
      code: codeText(f),
    };
  }
  return classifyHttp(f, 'Android gateway');
}

/**
 * Reasons the Android gateway reports in `sms:failed` (Android `SmsManager` results). Radio,
 * service, carrier limits and "generic failure" (usually no balance on the SIM) pass with time;
 * anything else (e.g. "Invalid number") is taken as permanent.
 */
const ANDROID_TEMPORARY_REASONS =
  /LIMIT_EXCEEDED|NO_SERVICE|RADIO_OFF|GENERIC_FAILURE|RIL_|MODEM|NETWORK|BUSY|TIMEOUT|NO_SIM|No SIMs/i;

/** Classifies the `reason` of an Android gateway `sms:failed` event. */
export function classifyAndroidFailureReason(reason: string): SmsFailureResult {
  return ANDROID_TEMPORARY_REASONS.test(reason)
    ? { status: 'temporary', error: `Android gateway: ${reason}`, code: reason }
    : { status: 'permanent', error: `Android gateway: ${reason}`, code: reason };
}

function classifyHttp(f: ProviderFailure, provider: string): SmsFailureResult {
  const status = f.httpStatus;
  const detail = f.message ? `: ${f.message}` : '';
  if (status === undefined) return temporary(f, `${provider} did not answer${detail}`);
  if (status === 429) return temporary(f, `${provider} rate limit (HTTP 429)${detail}`);
  if (status === 408 || status >= 500) return temporary(f, `${provider} HTTP ${status}${detail}`);
  return { status: 'permanent', error: `${provider} HTTP ${status}${detail}`, code: codeText(f) };
}

/** Parses a `Retry-After` header (seconds or an HTTP date) into milliseconds from `now`. */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
