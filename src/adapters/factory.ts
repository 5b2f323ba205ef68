/** Builds biller and payment-channel adapters from the catalogue's adapter configuration (docs/design.md §4). */
import { randomBytes } from 'node:crypto';
import type { BillerDefinition, PaymentChannelDefinition } from '../core/catalogue.js';
import type { PaymentPort } from '../core/ports/payment.port.js';
import type { Clock } from '../core/ports/clock.port.js';
import { HttpBiller } from './biller/http.biller.js';
import { SimulatedBiller } from './biller/simulated.biller.js';
import { withCircuitBreaker, type BreakerBiller, type BreakerState } from './circuit-breaker.js';
import { HttpPaymentChannel } from './payment/http.payment.js';
import { SimulatedPaymentChannel, type PaymentTexts } from './payment/simulated.payment.js';

export interface BillerFactoryDeps {
  clock: Clock;
  /** Told when a biller's circuit opens, half-opens or closes (metrics, logs, "tell me when it is back"). */
  onBreakerStateChange?: (billerId: string, state: BreakerState) => void;
}

export interface PaymentChannelFactoryDeps {
  clock: Clock;
  /** The externally visible base URL (callback URLs are built by the caller from it). */
  publicUrl?: string;
  log?: (msg: string, err?: unknown) => void;
  /** Renders a simulated channel's instructions from the locale files. */
  texts?: PaymentTexts;
}

export type PaymentChannelAdapter = PaymentPort & {
  close?(): void;
  /** The secret the webhook route verifies this channel's callbacks with. */
  webhookSecret: string;
};

/** The biller's adapter, wrapped in a circuit breaker (only inquiries go through it). */
export function createBiller(def: BillerDefinition, deps: BillerFactoryDeps): BreakerBiller {
  const a = def.adapter;
  const inner =
    a.type === 'http'
      ? new HttpBiller({
          billerId: def.id,
          baseUrl: a.baseUrl,
          token: a.token,
          timeoutMs: a.timeoutMs,
        })
      : new SimulatedBiller({ billerId: def.id, clock: deps.clock });
  const notify = deps.onBreakerStateChange;
  return withCircuitBreaker(inner, {
    billerId: def.id,
    onStateChange: notify ? (state) => notify(def.id, state) : undefined,
  });
}

export function createPaymentChannel(
  def: PaymentChannelDefinition,
  deps: PaymentChannelFactoryDeps,
): PaymentChannelAdapter {
  const a = def.adapter;
  if (a.type === 'http') {
    if (!a.webhookSecret) {
      throw new Error(
        `payment channel ${def.id}: an http adapter needs "webhookSecret" to verify its callbacks`,
      );
    }
    const channel = new HttpPaymentChannel({
      channelId: def.id,
      baseUrl: a.baseUrl,
      token: a.token,
      timeoutMs: a.timeoutMs,
    });
    return Object.assign(channel, { webhookSecret: a.webhookSecret });
  }
  return new SimulatedPaymentChannel({
    channelId: def.id,
    webhookSecret: a.webhookSecret ?? randomBytes(32).toString('hex'),
    confirmAfterMs: a.confirmAfterMs,
    clock: deps.clock,
    log: deps.log,
    ...(deps.texts ? { translator: deps.texts } : {}),
  });
}
