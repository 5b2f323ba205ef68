/**
 * The typed configuration that env.ts parses the process environment into: what every part
 * of Tasdeed is given at start instead of reading `process.env`.
 */
import type { HttpConfig } from './http-env.js';

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SMS_GATEWAYS = ['twilio', 'android'] as const;
export type SmsGatewayName = (typeof SMS_GATEWAYS)[number];

export type DatabaseConfig =
  /** `file` is the path from the URL as written: a relative path is relative to the working directory. */
  { kind: 'sqlite'; file: string } | { kind: 'postgresql'; url: string };

interface TelegramCommon {
  token: string;
  /** Bot API base URL, without a trailing slash. */
  apiRoot: string;
  /** Telegram user ids allowed staff commands. */
  staffIds: number[];
}

/** Telegram settings; the webhook secret exists only in webhook mode. */
export type TelegramConfig =
  | (TelegramCommon & { mode: 'polling' })
  | (TelegramCommon & { mode: 'webhook'; webhookSecret: string });

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  /** Sender: an E.164 number, a messaging service SID or an alphanumeric sender id, as Twilio takes it. */
  from: string;
  /** Twilio REST base URL, without a trailing slash. */
  apiRoot: string;
}

export interface AndroidSmsConfig {
  /** The gateway's API base URL, without a trailing slash. */
  url: string;
  user: string;
  password: string;
  /** Signs the gateway's webhooks (`X-Signature`). */
  webhookSecret: string;
}

export interface SmsConfig {
  /** Gateways in the order of `SMS_GATEWAY` (the first is the fallback route); empty = SMS off. */
  gateways: SmsGatewayName[];
  /** Number prefixes (`+` and digits) each gateway serves for messages that are not replies. */
  routes: Record<SmsGatewayName, string[]>;
  /** Present exactly when `twilio` is listed. */
  twilio: TwilioConfig | null;
  /** Present exactly when `android` is listed. */
  android: AndroidSmsConfig | null;
}

/**
 * A daily window in which no bulk message goes out, in whole hours of `timezone`: an hour `h`
 * is quiet when `start <= h < end`, or, when the window wraps midnight (`start > end`),
 * when `h >= start || h < end`. `start !== end`.
 */
export interface QuietHours {
  start: number;
  end: number;
}

/** Dispatch limits (docs/design.md §8). */
export interface RateLimits {
  /** Outbound SMS parts per second, per gateway (`SMS_MAX_PER_SECOND`). */
  smsPerSecond: number;
  /** The same for the Android gateway (`SMS_MAX_PER_SECOND_ANDROID`). */
  smsPerSecondAndroid: number;
  /** Most replies to one sender in an hour (`SMS_REPLIES_PER_HOUR`). */
  smsRepliesPerHour: number;
  /** Telegram bulk (reminders, broadcasts) cap (`TELEGRAM_BULK_PER_SECOND`). */
  telegramBulkPerSecond: number;
}

/** What one subscriber may use, so that one person cannot cost everyone else (docs/design.md §3). */
export interface SubscriberLimits {
  /** Most accounts one subscriber follows (`TASDEED_MAX_FOLLOWS`). */
  maxFollows: number;
  /** Most open payments per subscriber (`TASDEED_MAX_OPEN_PAYMENTS`). */
  maxOpenPayments: number;
  /** Most payment starts in an hour per subscriber and per payer number (`TASDEED_PAYMENT_STARTS_PER_HOUR`). */
  paymentStartsPerHour: number;
}

/**
 * `TASDEED_SANDBOX` as written: `on` (1) and `off` (0) are the operator's word; `auto` (unset)
 * is decided at start with the catalogue (see decideSandbox in sandbox.ts).
 */
export type SandboxSetting = 'auto' | 'on' | 'off';

/** A front that reaches real people. */
export type RealFront = 'telegram' | 'sms' | 'ussd';

export interface ReminderConfig {
  /** Days relative to the due date, deduplicated and sorted ascending. */
  offsets: number[];
  /** Hour of day (0-23) in `timezone`. */
  sendHour: number;
}

export interface AppConfig {
  port: number;
  host: string;
  database: DatabaseConfig;
  /** Externally visible base URL, without a trailing slash. */
  publicUrl: string;
  /** Path of the catalogue file; null = the built-in demo catalogue. */
  cataloguePath: string | null;
  /** IANA zone (canonical spelling) for schedules and quiet hours. */
  timezone: string;
  /** Bearer token of the staff HTTP API; null = staff API off. */
  adminToken: string | null;
  /** null = Telegram off. */
  telegram: TelegramConfig | null;
  sms: SmsConfig;
  limits: RateLimits;
  subscriberLimits: SubscriberLimits;
  /** TASDEED_SANDBOX; whether the sandbox is served is decided with the catalogue (decideSandbox). */
  sandbox: SandboxSetting;
  /** The real fronts configured (Telegram, SMS, USSD), in that order; empty = only the sandbox. */
  realFronts: RealFront[];
  reminders: ReminderConfig;
  quietHours: QuietHours;
  /** Days processed inbound rows, finished outbox rows and receipts are kept (`TASDEED_RETENTION_DAYS`). */
  retentionDays: number;
  logLevel: LogLevel;
  /** The HTTP server's limits, the proxies it trusts, the token of /metrics. */
  http: HttpConfig;
}

export type ParseEnvResult = { ok: true; config: AppConfig } | { ok: false; problems: string[] };
