/**
 * A simulated payment channel that behaves like a real provider (docs/design.md §5), with no outside system:
 *
 * - `initiate` answers "pending" at once; the same payment id again gets the same providerRef.
 * - After `confirmAfterMs` it POSTs a signed webhook to the request's callbackUrl, exactly as a real
 *   provider would (`X-Tasdeed-Signature`), retrying a few times on a non-2xx answer or a network
 *   error, then giving up (reconciliation asks `status` later).
 * - Outcome: a payer address ending in "0000" fails, anything else succeeds.
 * - `status` works from the providerRef alone, so it keeps answering after a restart:
 *   providerRef = `sim_<created ms>_<s|f>_<amountMinor>_<paymentId>`.
 * - Its instructions to the payer ("approve in your wallet") are the locale files'
 *   `simulated-pay-instructions`, in the request's language (Arabic when it names none); without
 *   a translator it gives none, as a provider may.
 */
import { randomUUID } from 'node:crypto';
import type { Language } from '../../core/domain.js';
import { stripIsolation, type Translator } from '../../core/i18n/translator.js';
import { qirsh } from '../../core/money.js';
import { signWebhook } from '../../core/payments/webhook-signature.js';
import { systemClock, type Clock } from '../../core/ports/clock.port.js';
import {
  PaymentChannelUnavailableError,
  type InitiatePaymentRequest,
  type InitiatePaymentResult,
  type PaymentPort,
  type PaymentStatusResult,
  type ProviderPaymentStatus,
} from '../../core/ports/payment.port.js';

export interface SimulatedPaymentChannelOptions {
  channelId: string;
  /** Signs the webhooks (the same secret the webhook route verifies with). */
  webhookSecret: string;
  /** How long the "payer" takes to approve. Default 1500 ms. */
  confirmAfterMs?: number;
  clock?: Clock;
  fetchImpl?: typeof fetch;
  log?: (msg: string, err?: unknown) => void;
  /** Pause between webhook attempts. Default 1000 ms. */
  retryDelayMs?: number;
  /** Webhook attempts in all (the first and the retries). Default 4. */
  webhookAttempts?: number;
  /** Renders the instructions from the locale files; none are given without it. */
  translator?: PaymentTexts;
}

/** What the simulated channel needs of the translator. */
export type PaymentTexts = Pick<Translator, 'render'>;

interface ParsedRef {
  createdMs: number;
  outcome: 'succeeded' | 'failed';
  amountMinor: number;
  paymentId: string;
}

const REF_PATTERN = /^sim_(\d{1,15})_([sf])_(\d{1,15})_(.+)$/;

/** The provider's reference for a simulated payment; everything `status` needs is in it. */
export function simulatedProviderRef(ref: ParsedRef): string {
  return `sim_${ref.createdMs}_${ref.outcome === 'succeeded' ? 's' : 'f'}_${ref.amountMinor}_${ref.paymentId}`;
}

export function parseSimulatedProviderRef(providerRef: string): ParsedRef | null {
  const m = REF_PATTERN.exec(providerRef);
  if (!m) return null;
  const createdMs = Number(m[1]);
  const amountMinor = Number(m[3]);
  if (!Number.isSafeInteger(createdMs) || !Number.isSafeInteger(amountMinor)) return null;
  return {
    createdMs,
    outcome: m[2] === 's' ? 'succeeded' : 'failed',
    amountMinor,
    paymentId: m[4]!,
  };
}

/** The simulated rule: a payer whose number ends in 0000 has no money. */
export function simulatedOutcome(address: string): 'succeeded' | 'failed' {
  return address.replace(/\D/g, '').endsWith('0000') ? 'failed' : 'succeeded';
}

export class SimulatedPaymentChannel implements PaymentPort {
  readonly channelId: string;
  readonly webhookSecret: string;
  private readonly confirmAfterMs: number;
  private readonly clock: Clock;
  private readonly fetchImpl: typeof fetch;
  private readonly log: (msg: string, err?: unknown) => void;
  private readonly retryDelayMs: number;
  private readonly webhookAttempts: number;
  private translator: PaymentTexts | null;
  /** paymentId → providerRef (idempotency within this process). */
  private readonly byPaymentId = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new AbortController();
  private closed = false;

  constructor(options: SimulatedPaymentChannelOptions) {
    this.channelId = options.channelId;
    this.webhookSecret = options.webhookSecret;
    this.confirmAfterMs = options.confirmAfterMs ?? 1500;
    this.clock = options.clock ?? systemClock;
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.log = options.log ?? (() => undefined);
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.webhookAttempts = Math.max(1, options.webhookAttempts ?? 4);
    this.translator = options.translator ?? null;
  }

  /** Gives the channel its texts once the translator exists (the factory builds it without). */
  setTranslator(translator: PaymentTexts): this {
    this.translator = translator;
    return this;
  }

  /** What the payer is asked to do, in their language; the provider's own plain text. */
  private instructions(request: InitiatePaymentRequest): string | undefined {
    if (!this.translator) return undefined;
    const language: Language = request.language ?? 'ar';
    const text = this.translator.render(
      {
        key: 'simulated-pay-instructions',
        args: { amount: { money: request.amountMinor }, ref: request.paymentId },
      },
      { language, medium: 'telegram' },
    );
    return stripIsolation(text);
  }

  initiate(request: InitiatePaymentRequest, signal?: AbortSignal): Promise<InitiatePaymentResult> {
    if (signal?.aborted) {
      return Promise.reject(
        new PaymentChannelUnavailableError(this.channelId, 'aborted by the caller', {
          cause: signal.reason,
        }),
      );
    }
    const instructions = this.instructions(request);
    const known = this.byPaymentId.get(request.paymentId);
    if (known !== undefined) {
      return Promise.resolve({
        providerRef: known,
        status: this.statusOf(parseSimulatedProviderRef(known)!).status,
        ...(instructions ? { instructions } : {}),
      });
    }
    const ref: ParsedRef = {
      createdMs: this.clock.now().getTime(),
      outcome: simulatedOutcome(request.payer.address),
      amountMinor: request.amountMinor,
      paymentId: request.paymentId,
    };
    const providerRef = simulatedProviderRef(ref);
    this.byPaymentId.set(request.paymentId, providerRef);
    if (!this.closed) {
      this.after(this.confirmAfterMs, () => this.deliver(request.callbackUrl, providerRef, ref));
    }
    return Promise.resolve({
      providerRef,
      status: 'pending',
      ...(instructions ? { instructions } : {}),
    });
  }

  /** The simulated channel always answers. */
  ping(): Promise<void> {
    return Promise.resolve();
  }

  status(providerRef: string, signal?: AbortSignal): Promise<PaymentStatusResult> {
    if (signal?.aborted) {
      return Promise.reject(
        new PaymentChannelUnavailableError(this.channelId, 'aborted by the caller', {
          cause: signal.reason,
        }),
      );
    }
    const ref = parseSimulatedProviderRef(providerRef);
    if (!ref) {
      return Promise.reject(
        new PaymentChannelUnavailableError(
          this.channelId,
          `unknown providerRef ${JSON.stringify(providerRef)}`,
        ),
      );
    }
    return Promise.resolve(this.statusOf(ref));
  }

  /** Cancels pending webhooks and aborts the ones in flight. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inFlight.abort();
  }

  private statusOf(ref: ParsedRef): PaymentStatusResult {
    const elapsed = this.clock.now().getTime() - ref.createdMs;
    const status: ProviderPaymentStatus = elapsed < this.confirmAfterMs ? 'pending' : ref.outcome;
    return { status, amountMinor: qirsh(ref.amountMinor) };
  }

  private after(ms: number, fn: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn().catch((err: unknown) =>
        this.log(`simulated channel ${this.channelId}: webhook task failed`, err),
      );
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private async deliver(callbackUrl: string, providerRef: string, ref: ParsedRef): Promise<void> {
    const rawBody = JSON.stringify({
      eventId: randomUUID(),
      providerRef,
      reference: ref.paymentId,
      status: ref.outcome,
      amountMinor: ref.amountMinor,
      occurredAt: this.clock.now().toISOString(),
    });
    const attempt = async (n: number): Promise<void> => {
      if (this.closed) return;
      let problem: unknown;
      try {
        const t = Math.floor(this.clock.now().getTime() / 1000);
        const res = await this.fetchImpl(callbackUrl, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-Tasdeed-Signature': signWebhook(this.webhookSecret, rawBody, t),
          },
          body: rawBody,
          signal: AbortSignal.any([this.inFlight.signal, AbortSignal.timeout(5000)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        problem = new Error(`callback answered ${res.status}`);
      } catch (err) {
        problem = err;
      }
      if (this.closed) return;
      if (n >= this.webhookAttempts) {
        this.log(
          `simulated channel ${this.channelId}: gave up the webhook for ${providerRef} to ${callbackUrl} after ${n} attempts`,
          problem,
        );
        return;
      }
      this.after(this.retryDelayMs, () => attempt(n + 1));
    };
    await attempt(1);
  }
}
