/**
 * Whether the sandbox channel is served, decided once at start from TASDEED_SANDBOX, the real
 * fronts configured and the catalogue.
 *
 * The sandbox lets anyone who reaches the HTTP port talk to the core under a name of their
 * choosing. That is a demo only while nothing real is behind it: with an HTTP biller a visitor
 * looks up real accounts, and with an HTTP payment channel their `PAY` starts a real payment
 * for any wallet number and locks the bill for its real subscriber. So, unset, it is on only
 * while no real front is configured and every biller and payment channel is simulated;
 * TASDEED_SANDBOX=1 forces it on anyway (with one warning at start when real adapters are
 * behind it), TASDEED_SANDBOX=0 off.
 *
 * Reminders and broadcasts reach sandbox identities only while the sandbox is on and no real
 * front is configured: a newcomer trying the demo sees them arrive, but a real deployment never
 * spends its bulk sending (and its rate limits) on names typed into the sandbox, and with the
 * sandbox off nobody can read what such a name is sent (nor should a broadcast preview price it).
 */
import type { Catalogue } from '../core/catalogue.js';
import type { AppConfig } from './env.js';

export interface SandboxDecision {
  /** Whether /sandbox is served. */
  on: boolean;
  /** Why, as one line for the start-up log. */
  reason: string;
  /** Forced on in front of real billers or channels: the one warning start-up logs, else null. */
  warning: string | null;
  /** Whether reminders and broadcasts reach sandbox identities: only while on with no real front. */
  inBulk: boolean;
}

/** The catalogue entries that are not simulated, e.g. `biller electricity`, `channel wallet`. */
export function realAdapters(catalogue: Catalogue): string[] {
  return [
    ...catalogue.billers.filter((b) => b.adapter.type !== 'simulated').map((b) => `biller ${b.id}`),
    ...catalogue.paymentChannels
      .filter((c) => c.adapter.type !== 'simulated')
      .map((c) => `channel ${c.id}`),
  ];
}

export function decideSandbox(
  config: Pick<AppConfig, 'sandbox' | 'realFronts'>,
  catalogue: Catalogue,
): SandboxDecision {
  const served = serveSandbox(config, catalogue);
  return { ...served, inBulk: served.on && config.realFronts.length === 0 };
}

function serveSandbox(
  config: Pick<AppConfig, 'sandbox' | 'realFronts'>,
  catalogue: Catalogue,
): Omit<SandboxDecision, 'inBulk'> {
  const fronts = config.realFronts;
  const adapters = realAdapters(catalogue);
  const frontsText = `a real front is configured (${fronts.join(', ')})`;
  const adaptersText = `the catalogue has billers or payment channels that are not simulated (${adapters.join(', ')})`;
  switch (config.sandbox) {
    case 'off':
      return { on: false, reason: 'sandbox off: TASDEED_SANDBOX=0', warning: null };
    case 'on':
      return {
        on: true,
        reason: 'sandbox on: TASDEED_SANDBOX=1',
        warning:
          adapters.length > 0
            ? `TASDEED_SANDBOX=1: sandbox messages reach real billers and channels (${adapters.join(', ')}): ` +
              'anyone who can reach /sandbox can look up real accounts and start real payments'
            : null,
      };
    case 'auto': {
      const because = [
        ...(fronts.length > 0 ? [frontsText] : []),
        ...(adapters.length > 0 ? [adaptersText] : []),
      ];
      if (because.length === 0) {
        return {
          on: true,
          reason: 'sandbox on: no real front, and every biller and payment channel is simulated',
          warning: null,
        };
      }
      return {
        on: false,
        reason: `sandbox off: ${because.join(', and ')}; TASDEED_SANDBOX=1 turns it on anyway`,
        warning: null,
      };
    }
  }
}
