/**
 * The SMS gateway port (docs/design.md §2, §8): one interface in front of every way out to the phone
 * network (Twilio's REST API, an Android phone with a local SIM, …). Adapters live in one folder
 * per vendor (`twilio/`, `android/`); webhook bodies reach the pure parsers only after the
 * adapter's signature check passed.
 */
import type { SmsGatewayName } from '../config/env.js';
import type { WholeMessageKeyword } from '../core/conversation/conversation.service.js';
import type { E164 } from './phone.js';

export type { SmsGatewayName } from '../config/env.js';

export interface SmsSendOptions {
  /** Where the provider reports delivery (Twilio's `StatusCallback`); ignored by gateways that push events. */
  statusCallbackUrl?: string;
  /**
   * A stable id of this message, derived from its outbox item (the same on every retry).
   * Gateways that accept a client-chosen id (the Android gateway's `id`) send it, so that a
   * request retried after a timeout is recognised instead of sending a second SMS; others
   * ignore it.
   */
  clientMessageId?: string;
}

/** Why a send failed, as a value with the provider's own code kept for logs and metrics. */
interface SmsFailure {
  /** A short human explanation; never contains credentials. */
  error: string;
  /** The provider's code: a Twilio error code (`"21610"`), `"HTTP_429"`, `"NETWORK"`, … */
  code: string;
}

/**
 * The outcome of one send. Assignable to the outbox's `SendResult`:
 * - `sent`: the provider accepted it (delivery is reported later); `providerMessageId` is null
 *   when the provider named it no way we know (its receipts then match nothing);
 * - `temporary`: try again later (rate limit, provider down, network);
 * - `permanent`: this message can never go (invalid number, region, configuration);
 * - `opted-out`: the number unsubscribed at the provider; stop every message to it.
 */
export type SmsSendResult =
  | { status: 'sent'; providerMessageId: string | null }
  | ({ status: 'temporary'; retryAfterMs?: number } & SmsFailure)
  | ({ status: 'permanent' } & SmsFailure)
  | ({ status: 'opted-out' } & SmsFailure);

export type SmsFailureResult = Exclude<SmsSendResult, { status: 'sent' }>;

/** STOP / START / HELP, as SMS and its gateways name them: the conversation's own commands. */
export type SmsKeyword = WholeMessageKeyword;

/** A message a person sent to one of our numbers. */
export interface InboundSms {
  gateway: SmsGatewayName;
  /**
   * The key to deduplicate on: Twilio's `MessageSid`; for the Android gateway the webhook
   * event's own `id` (its message ids are derived from content and are not unique).
   */
  dedupeKey: string;
  /** The provider's id of the message, when it has one (not unique for the Android gateway). */
  providerMessageId: string | null;
  /** The sender as the network gave it: E.164 when it parses, else the raw text (an alphanumeric sender). */
  from: string;
  /** Our number or sender the message was sent to, when known. */
  to: string | null;
  text: string;
  /** When the provider says it was received (ISO 8601), when it says so. */
  receivedAt: string | null;
  /**
   * The keyword the provider itself recognised in the message, when it says so (Twilio's
   * `OptOutType` with Advanced Opt-Out on; it may have custom keywords we do not know).
   */
  keyword?: SmsKeyword | null;
}

/** Delivery states, the provider's vocabulary mapped to ours in one place per adapter. */
export type SmsDeliveryState = 'queued' | 'sent' | 'delivered' | 'failed';

/** A delivery receipt for a message we sent. */
export interface SmsDeliveryStatus {
  gateway: SmsGatewayName;
  /** Twilio's `MessageSid` + status, or the Android webhook event id. */
  dedupeKey: string;
  /** The id `send` returned for the message. */
  providerMessageId: string;
  state: SmsDeliveryState;
  /** The provider's error code or reason when the state is `failed` (or a warning otherwise). */
  errorCode: string | null;
  /** How the failure is classified, when the state is `failed`. */
  failure: SmsFailureResult | null;
  at: string | null;
}

/** The result of parsing a webhook body that passed its signature check. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export interface SmsGatewayPort {
  readonly name: SmsGatewayName;
  /** Sends one text to one number. Never throws for provider or network failures: they are results. */
  send(to: E164, text: string, opts?: SmsSendOptions): Promise<SmsSendResult>;
  /** Parses an inbound-message webhook body (already verified). Pure. */
  parseInbound(body: unknown): ParseResult<InboundSms>;
  /**
   * Parses a delivery-status webhook body (already verified). Pure. Null for a well-formed
   * report that says nothing about delivering our message (acknowledge it, change nothing).
   */
  parseDeliveryStatus(body: unknown): ParseResult<SmsDeliveryStatus | null>;
}
