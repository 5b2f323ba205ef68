/**
 * The application logger: pino, JSON lines, with phone numbers, account numbers and secrets
 * redacted wherever they are likely to appear. Structured fields and headers that hold a secret
 * (cookies, the CSRF token, bearer tokens, webhook signatures) are redacted by name (see
 * {@link REDACT_PATHS}); free text (the message, error messages and stacks) goes through
 * {@link redactText}; and every string of every line goes through it once more as the line is
 * written ({@link redactLine}), so that a provider's error text quoting a number ("The 'To'
 * number +1415… is not valid") is masked wherever it ends up. Callers still pass numbers as
 * fields, never inside other strings, where they can.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger, LoggerOptions, SerializedError } from 'pino';
import { asciiDigits } from '../core/text/normalize.js';

export type Logger = PinoLogger;

/** What a redacted field is replaced with. */
export const REDACTED = '[redacted]';

/** Field names that hold a phone number, an account or wallet number, or a secret. */
const SENSITIVE_KEYS = [
  'phone',
  'phoneNumber',
  'from',
  'to',
  'address',
  'payerAddress',
  'account',
  'accountNumber',
  'walletNumber',
  'token',
  'authToken',
  'adminToken',
  'secret',
  'webhookSecret',
  'password',
  'authorization',
  'cookie',
] as const;

const SENSITIVE_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  // The console login's answer carries a working staff session.
  'set-cookie',
  'x-csrf-token',
  'x-twilio-signature',
  'x-tasdeed-signature',
  'x-telegram-bot-api-secret-token',
  'x-signature',
] as const;

/**
 * pino redact paths: each sensitive key at the top level and two levels down (`*.phone`,
 * `*.*.phone`, which also covers arrays of objects), and the signature headers of requests.
 */
export const REDACT_PATHS: readonly string[] = [
  ...SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  ...SENSITIVE_HEADERS.flatMap((header) => [
    `req.headers["${header}"]`,
    `res.headers["${header}"]`,
  ]),
];

// Digits of any script: feature-phone users type Arabic-Indic digits as often as ASCII ones.
const PHONE = /\+\p{Nd}{8,15}(?!\p{Nd})/gu;
const DIGIT_RUN = /(?<![\p{Nd}A-Za-z_])\p{Nd}{6,}(?![\p{Nd}A-Za-z_])/gu;

function mask(digits: string[], keepStart: number, keepEnd: number): string {
  return digits.map((d, i) => (i < keepStart || i >= digits.length - keepEnd ? d : '*')).join('');
}

/**
 * Masks personal numbers in free text (error messages, user text quoted in a log): an
 * E.164-looking phone number (`+` and 8-15 digits) keeps its country code and last 3 digits
 * (`+963944123456` → `+963******456`); any other run of 6 or more digits (account numbers,
 * local phone numbers) keeps its last 2 (`1234567` → `*****67`). Digits of any script are
 * recognised and kept in the script they were written in.
 */
export function redactText(s: string): string {
  return s
    .replace(PHONE, (match) => {
      const digits = [...match.slice(1)];
      const countryCode =
        parsePhoneNumberFromString(`+${asciiDigits(digits.join(''))}`)?.countryCallingCode ?? '';
      return `+${mask(digits, countryCode.length, 3)}`;
    })
    .replace(DIGIT_RUN, (match) => mask([...match], 0, 2));
}

/** Query parameters whose value is a secret (Kannel's `secret=`, a token in a callback URL). */
const SECRET_PARAM = /([?&](?:secret|token|password|key|signature|sig)=)[^&#]*/gi;

/**
 * A request URL for the log: secret query parameters (`secret=`, `token=`…) replaced by
 * {@link REDACTED}, the rest decoded and masked like free text, so that `?from=%2B963944123456`
 * is logged as `?from=+963******456` (percent-encoding would hide the number from
 * {@link redactText}). The path is masked too (account numbers in paths).
 */
export function redactUrl(url: string): string {
  const withoutSecrets = url.replace(SECRET_PARAM, `$1${REDACTED}`);
  let decoded = withoutSecrets;
  try {
    decoded = decodeURIComponent(withoutSecrets);
  } catch {
    // A malformed escape: mask what is there.
  }
  return redactText(decoded);
}

// A JSON string literal as JSON.stringify writes it, and a request id (whose all-digit groups are
// not personal numbers).
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;
const UUID_LITERAL = /^"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"$/i;

/**
 * Masks personal numbers in every string of a JSON log line (numbers outside strings, such as
 * the time, are JSON numbers and left alone). The last line of defence: whatever a caller put in
 * a field (a provider's error text, a header, a bound value) is written masked.
 */
export function redactLine(line: string): string {
  return line.replace(JSON_STRING, (literal) =>
    UUID_LITERAL.test(literal) ? literal : redactText(literal),
  );
}

function serializeError(error: unknown): unknown {
  // Outcomes carry their error as text (a provider's answer, which may quote the number).
  if (typeof error === 'string') return redactText(error);
  if (!(error instanceof Error)) return error;
  const serialized: SerializedError = pino.stdSerializers.err(error);
  return {
    ...serialized,
    message: redactText(serialized.message),
    stack: redactText(serialized.stack),
  };
}

export interface CreateLoggerOptions {
  /** A pino level or `silent`. */
  level: string;
  /** Where lines go; stdout by default. Tests pass a stream and parse the lines. */
  destination?: DestinationStream;
}

/** A pino logger with Tasdeed's redaction rules. */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    level: opts.level,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: { err: serializeError, error: serializeError },
    hooks: {
      streamWrite: redactLine,
      logMethod(args, method) {
        const redacted = args.map((arg: unknown) =>
          typeof arg === 'string' ? redactText(arg) : arg,
        ) as typeof args;
        method.apply(this, redacted);
      },
    },
  };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
}
