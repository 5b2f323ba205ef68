/**
 * Which gateway sends an SMS (docs/design.md §8): a reply goes back through the gateway the person's
 * message came in on; any other message through the gateway whose `SMS_ROUTE_…` prefixes match
 * the number (the longest matching prefix wins; a tie goes to the gateway listed first in
 * `SMS_GATEWAY`); else through the first gateway listed.
 */
import type { SmsConfig, SmsGatewayName } from '../config/env.js';

export interface RouteInput {
  /** E.164 number of the recipient. */
  to: string;
  /** The gateway the recipient's own message arrived on, when this is a reply. */
  inboundGateway?: SmsGatewayName | null;
}

export type RouteReason = 'inbound' | 'prefix' | 'default';

/** The gateway to use and why, or null when SMS is off. */
export function chooseGateway(
  config: Pick<SmsConfig, 'gateways' | 'routes'>,
  input: RouteInput,
): { gateway: SmsGatewayName; reason: RouteReason } | null {
  const { gateways, routes } = config;
  if (gateways.length === 0) return null;
  if (input.inboundGateway && gateways.includes(input.inboundGateway)) {
    return { gateway: input.inboundGateway, reason: 'inbound' };
  }
  let best: { gateway: SmsGatewayName; length: number } | null = null;
  for (const gateway of gateways) {
    for (const prefix of routes[gateway] ?? []) {
      if (input.to.startsWith(prefix) && (best === null || prefix.length > best.length)) {
        best = { gateway, length: prefix.length };
      }
    }
  }
  if (best) return { gateway: best.gateway, reason: 'prefix' };
  return { gateway: gateways[0]!, reason: 'default' };
}
