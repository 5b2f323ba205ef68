/**
 * The Twilio adapter: sends through the official REST client (`messages.create`). Twilio no
 * longer delivers to Syrian numbers (since 15 September 2025); this adapter serves diaspora
 * numbers and other countries, and is the reference integration.
 *
 * `TWILIO_API_ROOT` points the client elsewhere (a local stand-in in tests): Twilio's `edge` and
 * `region` options cannot name a host, so a custom `httpClient` rewrites the
 * `https://api.twilio.com` prefix of every request.
 */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { TwilioConfig } from '../../config/env.js';
import type { E164 } from '../phone.js';
import { classifyTwilioFailure } from '../sms-errors.js';
import type {
  InboundSms,
  ParseResult,
  SmsDeliveryStatus,
  SmsGatewayPort,
  SmsSendOptions,
  SmsSendResult,
} from '../sms-gateway.port.js';
import { parseTwilioInbound, parseTwilioStatus } from './twilio.webhook.js';

/** Twilio's REST base URL, as the SDK writes it. */
export const TWILIO_DEFAULT_API_ROOT = 'https://api.twilio.com';

/** A request to Twilio that gets no answer in this long is a temporary failure. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Twilio's `RequestClient` with the API root swapped for `apiRoot`. */
export class RootRewritingRequestClient extends twilio.RequestClient {
  constructor(
    private readonly apiRoot: string,
    opts: RequestClient.RequestClientOptions = {},
  ) {
    super(opts);
  }

  override request<TData>(
    opts: RequestClient.RequestOptions<TData>,
  ): ReturnType<typeof twilio.RequestClient.prototype.request<TData>> {
    const root = this.apiRoot.replace(/\/+$/, '');
    const uri =
      root !== TWILIO_DEFAULT_API_ROOT && opts.uri.startsWith(TWILIO_DEFAULT_API_ROOT)
        ? root + opts.uri.slice(TWILIO_DEFAULT_API_ROOT.length)
        : opts.uri;
    return super.request<TData>({ ...opts, uri });
  }
}

/** A Messaging Service SID (`MG` + 32 hex) is sent as `MessagingServiceSid`, not `From`. */
const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;

export class TwilioGateway implements SmsGatewayPort {
  readonly name = 'twilio' as const;
  private readonly client: twilio.Twilio;

  constructor(private readonly config: TwilioConfig) {
    this.client = twilio(config.accountSid, config.authToken, {
      httpClient: new RootRewritingRequestClient(config.apiRoot, {
        timeout: REQUEST_TIMEOUT_MS,
        // The outbox owns retries and backoff: the SDK must not retry 429s behind its back.
        autoRetry: false,
      }),
    });
  }

  async send(to: E164, text: string, opts: SmsSendOptions = {}): Promise<SmsSendResult> {
    const sender = MESSAGING_SERVICE_SID.test(this.config.from)
      ? { messagingServiceSid: this.config.from }
      : { from: this.config.from };
    try {
      const message = await this.client.messages.create({
        to,
        body: text,
        ...sender,
        ...(opts.statusCallbackUrl ? { statusCallback: opts.statusCallbackUrl } : {}),
      });
      return { status: 'sent', providerMessageId: message.sid };
    } catch (error) {
      return classifyTwilioError(error);
    }
  }

  parseInbound(body: unknown): ParseResult<InboundSms> {
    return parseTwilioInbound(body);
  }

  parseDeliveryStatus(body: unknown): ParseResult<SmsDeliveryStatus | null> {
    return parseTwilioStatus(body);
  }
}

/** Maps whatever the Twilio client threw (a `RestException`, a network error) to a result. */
export function classifyTwilioError(error: unknown): Exclude<SmsSendResult, { status: 'sent' }> {
  if (error instanceof twilio.RestException) {
    return classifyTwilioFailure({
      httpStatus: error.status,
      ...(error.code !== undefined ? { code: error.code } : {}),
      ...(error.message ? { message: error.message } : {}),
    });
  }
  // No answer: connection refused, reset, timeout. Axios errors carry a `code` such as ECONNREFUSED.
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return {
    status: 'temporary',
    error: `Twilio did not answer: ${typeof code === 'string' ? code : message}`,
    code: 'NETWORK',
  };
}
