/** The catalogue as the core uses it: billers, payment channels and the coverage seed (docs/design.md §4). */
import type { LocalName } from './domain.js';

export type AdapterConfig =
  | { type: 'simulated'; webhookSecret?: string; timeoutMs?: number; confirmAfterMs?: number }
  | { type: 'http'; baseUrl: string; token?: string; webhookSecret?: string; timeoutMs?: number };

export interface BillerDefinition {
  id: string;
  name: LocalName;
  aliases: string[];
  /** A regular expression the account number must match (after digit normalisation). */
  accountPattern: string;
  adapter: AdapterConfig;
}

export interface PaymentChannelDefinition {
  id: string;
  name: LocalName;
  aliases: string[];
  adapter: AdapterConfig;
}

export interface Catalogue {
  billers: BillerDefinition[];
  paymentChannels: PaymentChannelDefinition[];
  /** Per biller, the governorates where e-payment is not available. */
  coverage: Record<string, { unavailable: string[] }>;
}
