import type { Language } from '../domain.js';
import type { Qirsh } from '../money.js';

export type ProviderPaymentStatus = 'pending' | 'succeeded' | 'failed' | 'expired';

export interface InitiatePaymentRequest {
  /** Our payment id: the reference and the Idempotency-Key. */
  paymentId: string;
  amountMinor: Qirsh;
  currency: 'SYP';
  billerId: string;
  account: string;
  billId: string;
  payer: { channel: string; address: string };
  callbackUrl: string;
  /**
   * The payer's language, for text a channel shows them (the simulated channel's instructions).
   * Internal: the HTTP adapter does not send it (docs/design.md §5).
   */
  language?: Language;
}

export interface InitiatePaymentResult {
  providerRef: string;
  status: ProviderPaymentStatus;
  /** Text the provider wants shown to the payer (e.g. "approve in your wallet"). */
  instructions?: string;
}

export interface PaymentStatusResult {
  status: ProviderPaymentStatus;
  amountMinor?: Qirsh;
}

/** The channel could not be reached or answered garbage. For status queries: money may have moved. */
export class PaymentChannelUnavailableError extends Error {
  readonly code = 'PAYMENT.CHANNEL_UNAVAILABLE';
  constructor(
    readonly channelId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`payment channel ${channelId} unavailable: ${message}`, options);
  }
}

/** What Tasdeed needs from a payment channel (docs/design.md §5). */
export interface PaymentPort {
  initiate(request: InitiatePaymentRequest, signal?: AbortSignal): Promise<InitiatePaymentResult>;
  status(providerRef: string, signal?: AbortSignal): Promise<PaymentStatusResult>;
  /**
   * Whether the channel answers at all ("tell me when it is back"): resolves when it does
   * (any answer below 500, a 404 included), throws PaymentChannelUnavailableError otherwise.
   */
  ping(signal?: AbortSignal): Promise<void>;
}

/** A callback event, once its signature and shape are checked. */
export interface PaymentWebhookEvent {
  eventId: string;
  providerRef: string;
  reference: string;
  status: ProviderPaymentStatus;
  amountMinor: Qirsh | null;
  occurredAt: Date | null;
}
