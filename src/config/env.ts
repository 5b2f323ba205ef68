/**
 * The process environment, parsed and validated once at start (docs/design.md §3) into a typed
 * {@link AppConfig}. Nothing else reads `process.env`.
 *
 * Rules every variable follows:
 * - unset, empty or blank = its default; values are trimmed;
 * - a variable that is set is checked even when its feature is off (a typo is a typo);
 *   a variable a feature needs is required only when that feature is on;
 * - each problem is one line naming the variable, what was wrong and what is expected;
 *   all problems are collected, and secret values never appear in them.
 */

import {
  LOG_LEVELS,
  SMS_GATEWAYS,
  type DatabaseConfig,
  type LogLevel,
  type ParseEnvResult,
  type QuietHours,
  type RateLimits,
  type RealFront,
  type ReminderConfig,
  type SandboxSetting,
  type SmsConfig,
  type SmsGatewayName,
  type SubscriberLimits,
  type TelegramConfig,
  type TwilioConfig,
  type AndroidSmsConfig,
} from './app-config.js';
import { parseHttpEnv } from './http-env.js';

export * from './app-config.js';
export type { HttpConfig, TrustProxy } from './http-env.js';

const DEFAULT_PORT = 3000;
const DEFAULT_DATABASE_URL = 'file:./data/tasdeed.db';
const DEFAULT_TELEGRAM_API_ROOT = 'https://api.telegram.org';
const DEFAULT_TWILIO_API_ROOT = 'https://api.twilio.com';
const DEFAULT_TIMEZONE = 'Asia/Damascus';
const DEFAULT_REMINDER_OFFSETS = [-3, 0, 3];
const DEFAULT_SEND_HOUR = 10;
const DEFAULT_QUIET_HOURS: QuietHours = { start: 21, end: 8 };
const MIN_ADMIN_TOKEN_LENGTH = 16;
const MAX_REMINDER_OFFSET = 60;
const DEFAULT_RETENTION_DAYS = 180;
/** Deduplication needs the rows that long: the Android gateway retries a webhook for days. */
const MIN_RETENTION_DAYS = 14;
const MAX_RETENTION_DAYS = 36_500;

/** Quotes a value for a problem line; long values are shortened so that a line stays a line. */
function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

/** Reads variables and collects problems. */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The trimmed value, or undefined when unset or blank. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  problem(name: string, text: string): void {
    this.problems.push(`${name}: ${text}`);
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** A required value: a problem (without the value) when missing and `needed` is true. */
  required(name: string, needed: boolean, why: string): string {
    const value = this.raw(name);
    if (value === undefined && needed) this.problem(name, `is required ${why}`);
    return value ?? '';
  }

  integer(name: string, fallback: number, min: number, max: number, what: string): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problem(name, `${show(value)} is not ${what} (${rangeText(min, max)})`);
      return fallback;
    }
    return n;
  }

  positiveNumber(name: string, fallback: number, what: string): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = /^\d+(\.\d+)?$|^\.\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isFinite(n) || n <= 0) {
      this.problem(name, `${show(value)} is not ${what} (a number greater than 0)`);
      return fallback;
    }
    return n;
  }

  /** An http(s) URL without its trailing slashes. Secret-bearing URLs are never echoed. */
  httpUrl(name: string, fallback: string, opts: { secret?: boolean } = {}): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const shown = opts.secret ? 'the value' : show(value);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.problem(name, `${shown} is not a URL (expected http:// or https://…)`);
      return fallback;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      this.problem(name, `${shown} is not an http(s) URL (expected http:// or https://…)`);
      return fallback;
    }
    if (url.search !== '' || url.hash !== '') {
      this.problem(
        name,
        `${shown} must not have a query or fragment (expected a base URL such as https://example.org/base)`,
      );
      return fallback;
    }
    return value.replace(/\/+$/, '');
  }

  /** A comma-separated list; blank items are ignored. */
  list(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
}

function rangeText(min: number, max: number): string {
  return `an integer from ${min} to ${max}`;
}

function parseDatabase(r: EnvReader): DatabaseConfig {
  const name = 'DATABASE_URL';
  const value = r.string(name, DEFAULT_DATABASE_URL);
  const expected = 'expected file:<path> (SQLite) or postgresql://… (PostgreSQL)';
  if (value.startsWith('file:')) {
    // Prisma and SQLite take "file:./x.db", "file:/abs/x.db" and "file:///abs/x.db"; a query
    // string (e.g. "?connection_limit=1") is an option, not part of the path.
    let file = value.slice('file:'.length).replace(/[?#].*$/, '');
    if (file.startsWith('//')) {
      const m = /^\/\/(localhost)?(\/.*)$/.exec(file);
      file = m?.[2] ?? '';
    }
    if (file === '') {
      r.problem(name, `${show(value)} names no file (${expected}, e.g. file:./data/tasdeed.db)`);
      return { kind: 'sqlite', file: DEFAULT_DATABASE_URL.slice('file:'.length) };
    }
    return { kind: 'sqlite', file: decodeURIComponent(file) };
  }
  // A PostgreSQL URL may carry a password: it is never echoed.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1]?.toLowerCase();
  if (scheme === 'postgresql' || scheme === 'postgres') {
    let url: URL | null = null;
    try {
      url = new URL(value);
    } catch {
      url = null;
    }
    if (url === null || url.hostname === '') {
      r.problem(
        name,
        `is not a valid ${scheme}:// URL (expected postgresql://user:password@host:5432/database)`,
      );
      return { kind: 'sqlite', file: DEFAULT_DATABASE_URL.slice('file:'.length) };
    }
    return { kind: 'postgresql', url: value };
  }
  r.problem(
    name,
    scheme === undefined
      ? `is not a database URL (${expected})`
      : `scheme "${scheme}:" is not supported (${expected})`,
  );
  return { kind: 'sqlite', file: DEFAULT_DATABASE_URL.slice('file:'.length) };
}

function parseTimezone(r: EnvReader): string {
  const value = r.raw('TASDEED_TIMEZONE');
  if (value === undefined) return DEFAULT_TIMEZONE;
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    r.problem(
      'TASDEED_TIMEZONE',
      `${show(value)} is not an IANA time zone (expected e.g. Asia/Damascus or UTC)`,
    );
    return DEFAULT_TIMEZONE;
  }
}

const TELEGRAM_SECRET = /^[A-Za-z0-9_-]{1,256}$/;

function parseTelegram(r: EnvReader): TelegramConfig | null {
  const token = r.raw('TELEGRAM_BOT_TOKEN');
  const apiRoot = r.httpUrl('TELEGRAM_API_ROOT', DEFAULT_TELEGRAM_API_ROOT);

  const modeValue = r.raw('TELEGRAM_MODE')?.toLowerCase() ?? 'polling';
  let mode: 'polling' | 'webhook' = 'polling';
  if (modeValue === 'polling' || modeValue === 'webhook') mode = modeValue;
  else r.problem('TELEGRAM_MODE', `${show(modeValue)} is not a mode (expected polling or webhook)`);

  const staffIds: number[] = [];
  for (const item of r.list('TELEGRAM_STAFF_IDS') ?? []) {
    const id = /^\d+$/.test(item) ? Number(item) : Number.NaN;
    if (Number.isSafeInteger(id) && id > 0) staffIds.push(id);
    else
      r.problem(
        'TELEGRAM_STAFF_IDS',
        `${show(item)} is not a Telegram user id (expected comma-separated positive integers, e.g. 12345,67890)`,
      );
  }

  const secret = r.raw('TELEGRAM_WEBHOOK_SECRET');
  if (secret !== undefined && !TELEGRAM_SECRET.test(secret)) {
    r.problem(
      'TELEGRAM_WEBHOOK_SECRET',
      "is not valid (expected 1-256 characters of A-Z, a-z, 0-9, _ and -, Telegram's rule)",
    );
  }
  if (token === undefined) return null;
  const common = { token, apiRoot, staffIds: [...new Set(staffIds)] };
  if (mode === 'polling') return { ...common, mode };
  if (secret === undefined) {
    r.problem(
      'TELEGRAM_WEBHOOK_SECRET',
      'is required when TELEGRAM_MODE=webhook (it is checked against X-Telegram-Bot-Api-Secret-Token)',
    );
  }
  return { ...common, mode, webhookSecret: secret ?? '' };
}

function parseSmsGateways(r: EnvReader): SmsGatewayName[] {
  const items = r.list('SMS_GATEWAY')?.map((item) => item.toLowerCase()) ?? ['none'];
  const gateways: SmsGatewayName[] = [];
  for (const item of items) {
    if (item === 'none') {
      if (items.length > 1)
        r.problem(
          'SMS_GATEWAY',
          '"none" cannot be combined with a gateway (expected none, or a list of twilio and android)',
        );
    } else if ((SMS_GATEWAYS as readonly string[]).includes(item)) {
      if (!gateways.includes(item as SmsGatewayName)) gateways.push(item as SmsGatewayName);
    } else {
      r.problem(
        'SMS_GATEWAY',
        `${show(item)} is not a gateway (expected a comma-separated list of twilio and android, or none)`,
      );
    }
  }
  return gateways;
}

function parseRoutes(r: EnvReader, name: string): string[] {
  const prefixes: string[] = [];
  for (const item of r.list(name) ?? []) {
    if (/^\+\d{1,15}$/.test(item)) {
      if (!prefixes.includes(item)) prefixes.push(item);
    } else {
      r.problem(
        name,
        `${show(item)} is not a number prefix (expected comma-separated prefixes of + and digits, e.g. +963)`,
      );
    }
  }
  return prefixes;
}

function parseSms(r: EnvReader): SmsConfig {
  const gateways = parseSmsGateways(r);
  const routes = {
    twilio: parseRoutes(r, 'SMS_ROUTE_TWILIO'),
    android: parseRoutes(r, 'SMS_ROUTE_ANDROID'),
  };

  const useTwilio = gateways.includes('twilio');
  const twilioWhy = 'when SMS_GATEWAY lists twilio';
  const twilio: TwilioConfig = {
    accountSid: r.required('TWILIO_ACCOUNT_SID', useTwilio, twilioWhy),
    authToken: r.required('TWILIO_AUTH_TOKEN', useTwilio, twilioWhy),
    from: r.required('TWILIO_FROM', useTwilio, twilioWhy),
    apiRoot: r.httpUrl('TWILIO_API_ROOT', DEFAULT_TWILIO_API_ROOT),
  };

  const useAndroid = gateways.includes('android');
  const androidWhy = 'when SMS_GATEWAY lists android';
  const androidUrl = r.httpUrl('ANDROID_SMS_URL', '', { secret: true });
  if (useAndroid && r.raw('ANDROID_SMS_URL') === undefined)
    r.problem('ANDROID_SMS_URL', `is required ${androidWhy}`);
  const android: AndroidSmsConfig = {
    url: androidUrl,
    user: r.required('ANDROID_SMS_USER', useAndroid, androidWhy),
    password: r.required('ANDROID_SMS_PASSWORD', useAndroid, androidWhy),
    webhookSecret: r.required('ANDROID_SMS_WEBHOOK_SECRET', useAndroid, androidWhy),
  };

  return {
    gateways,
    routes,
    twilio: useTwilio ? twilio : null,
    android: useAndroid ? android : null,
  };
}

function parseLimits(r: EnvReader): RateLimits {
  return {
    smsPerSecond: r.positiveNumber('SMS_MAX_PER_SECOND', 10, 'a rate'),
    smsPerSecondAndroid: r.positiveNumber('SMS_MAX_PER_SECOND_ANDROID', 1, 'a rate'),
    smsRepliesPerHour: r.integer('SMS_REPLIES_PER_HOUR', 20, 1, 1_000_000, 'a number of replies'),
    telegramBulkPerSecond: r.positiveNumber('TELEGRAM_BULK_PER_SECOND', 25, 'a rate'),
  };
}

function parseSubscriberLimits(r: EnvReader): SubscriberLimits {
  return {
    // BILL over every followed account looks each one up: the cap bounds that work.
    maxFollows: r.integer('TASDEED_MAX_FOLLOWS', 10, 1, 100, 'a number of accounts'),
    // An open payment holds its bill: the caps keep one person from holding other people's.
    maxOpenPayments: r.integer('TASDEED_MAX_OPEN_PAYMENTS', 3, 1, 100, 'a number of payments'),
    paymentStartsPerHour: r.integer(
      'TASDEED_PAYMENT_STARTS_PER_HOUR',
      5,
      1,
      100,
      'a number of payments',
    ),
  };
}

function parseSandbox(r: EnvReader): SandboxSetting {
  const value = r.raw('TASDEED_SANDBOX');
  if (value === undefined) return 'auto';
  const v = value.toLowerCase();
  if (v === '1' || v === 'true') return 'on';
  if (v === '0' || v === 'false') return 'off';
  r.problem('TASDEED_SANDBOX', `${show(value)} is not a switch (expected 1 for on or 0 for off)`);
  // Off, not auto: the operator meant something, and start-up stops on the problem anyway.
  return 'off';
}

function realFrontsOf(r: EnvReader, telegram: TelegramConfig | null, sms: SmsConfig): RealFront[] {
  const fronts: RealFront[] = [];
  if (telegram) fronts.push('telegram');
  if (sms.gateways.length > 0) fronts.push('sms');
  // The USSD route is on exactly when its secret is set: real subscribers dial in there.
  if (r.raw('USSD_WEBHOOK_SECRET') !== undefined) fronts.push('ussd');
  return fronts;
}

function parseReminderOffsets(r: EnvReader): number[] {
  const name = 'TASDEED_REMINDER_OFFSETS';
  const items = r.list(name);
  if (items === undefined) return [...DEFAULT_REMINDER_OFFSETS];
  const offsets = new Set<number>();
  let bad = false;
  for (const item of items) {
    const n = /^[+-]?\d+$/.test(item) ? Number(item) : Number.NaN;
    if (Number.isSafeInteger(n) && Math.abs(n) <= MAX_REMINDER_OFFSET) offsets.add(n);
    else {
      bad = true;
      r.problem(
        name,
        `${show(item)} is not a day offset (expected comma-separated integers from -${MAX_REMINDER_OFFSET} to ${MAX_REMINDER_OFFSET}, e.g. -3,0,3)`,
      );
    }
  }
  if (offsets.size === 0 && !bad)
    r.problem(name, 'lists no offset (expected comma-separated integers, e.g. -3,0,3)');
  return offsets.size === 0 ? [...DEFAULT_REMINDER_OFFSETS] : [...offsets].sort((a, b) => a - b);
}

function parseQuietHours(r: EnvReader): QuietHours {
  const name = 'TASDEED_QUIET_HOURS';
  const value = r.raw(name);
  if (value === undefined) return { ...DEFAULT_QUIET_HOURS };
  const m = /^(\d{1,2})\s*-\s*(\d{1,2})$/.exec(value);
  const start = Number(m?.[1]);
  const end = Number(m?.[2]);
  if (m === null || start > 23 || end > 23) {
    r.problem(
      name,
      `${show(value)} is not an hour range (expected start-end in whole hours 0-23, e.g. 21-8)`,
    );
    return { ...DEFAULT_QUIET_HOURS };
  }
  if (start === end) {
    r.problem(
      name,
      `${show(value)} starts and ends at the same hour (expected two different hours, e.g. 21-8)`,
    );
    return { ...DEFAULT_QUIET_HOURS };
  }
  return { start, end };
}

function parseRetentionDays(r: EnvReader): number {
  const name = 'TASDEED_RETENTION_DAYS';
  const value = r.raw(name);
  if (value === undefined) return DEFAULT_RETENTION_DAYS;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > MAX_RETENTION_DAYS) {
    r.problem(
      name,
      `${show(value)} is not a number of days (${rangeText(MIN_RETENTION_DAYS, MAX_RETENTION_DAYS)})`,
    );
    return DEFAULT_RETENTION_DAYS;
  }
  if (n < MIN_RETENTION_DAYS) {
    r.problem(
      name,
      `${show(value)} must be at least ${MIN_RETENTION_DAYS} days (deduplication of redelivered messages and receipts needs the rows: the Android gateway retries for days)`,
    );
    return DEFAULT_RETENTION_DAYS;
  }
  return n;
}

function parseAdminToken(r: EnvReader): string | null {
  const value = r.raw('TASDEED_ADMIN_TOKEN');
  if (value === undefined) return null;
  if (value.length < MIN_ADMIN_TOKEN_LENGTH) {
    r.problem(
      'TASDEED_ADMIN_TOKEN',
      `is shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters (use a long random value, or unset it to turn the staff API off)`,
    );
  }
  return value;
}

function parseLogLevel(r: EnvReader): LogLevel {
  const value = r.raw('LOG_LEVEL');
  if (value === undefined) return 'info';
  const v = value.toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  r.problem(
    'LOG_LEVEL',
    `${show(value)} is not a log level (expected one of ${LOG_LEVELS.join(', ')})`,
  );
  return 'info';
}

/**
 * Parses every variable of docs/design.md §3. Returns the typed configuration, or every problem found,
 * one human line each (e.g. `PORT: "abc" is not a port number (1-65535)`).
 */
export function parseEnv(env: NodeJS.ProcessEnv): ParseEnvResult {
  const r = new EnvReader(env);

  const portValue = r.raw('PORT');
  let port = DEFAULT_PORT;
  if (portValue !== undefined) {
    const n = /^\d+$/.test(portValue) ? Number(portValue) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= 1 && n <= 65535) port = n;
    else r.problem('PORT', `${show(portValue)} is not a port number (1-65535)`);
  }
  const host = r.string('HOST', '0.0.0.0');
  const database = parseDatabase(r);
  const publicUrl = r.httpUrl('PUBLIC_URL', `http://localhost:${port}`);
  const cataloguePath = r.raw('TASDEED_CATALOGUE') ?? null;
  const timezone = parseTimezone(r);
  const adminToken = parseAdminToken(r);
  const telegram = parseTelegram(r);
  const sms = parseSms(r);
  const limits = parseLimits(r);
  const subscriberLimits = parseSubscriberLimits(r);
  const sandbox = parseSandbox(r);
  const realFronts = realFrontsOf(r, telegram, sms);
  const reminders: ReminderConfig = {
    offsets: parseReminderOffsets(r),
    sendHour: r.integer('TASDEED_SEND_HOUR', DEFAULT_SEND_HOUR, 0, 23, 'an hour of the day'),
  };
  const quietHours = parseQuietHours(r);
  const retentionDays = parseRetentionDays(r);
  const logLevel = parseLogLevel(r);
  const http = parseHttpEnv(r);

  if (r.problems.length > 0) return { ok: false, problems: r.problems };
  return {
    ok: true,
    config: {
      port,
      host,
      database,
      publicUrl,
      cataloguePath,
      timezone,
      adminToken,
      telegram,
      sms,
      limits,
      subscriberLimits,
      sandbox,
      realFronts,
      reminders,
      quietHours,
      retentionDays,
      logLevel,
      http,
    },
  };
}
