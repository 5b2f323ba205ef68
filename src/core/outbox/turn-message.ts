/**
 * From a conversation turn to one outbox message, for every front (Telegram, SMS): the turn's
 * replies leave as one message (its lines cannot then arrive out of order) carrying the turn's
 * choices. Keys, not rendered text, are stored (see MessagePayload).
 */
import type { Choice, Reply } from '../i18n/reply.js';
import type { MessagePayload } from './message.handler.js';

export interface TurnMessageOptions {
  /** The one confirmation of a STOP, sent although the address has just opted out. */
  evenIfOptedOut?: boolean;
  /** SMS: the gateway the person wrote in on, so that the reply goes back the same way. */
  gateway?: string;
}

/** The message payload of a turn, or null when the turn has nothing to say. */
export function turnMessagePayload(
  replies: Reply[],
  choices: Choice[] = [],
  options: TurnMessageOptions = {},
): MessagePayload | null {
  const [first, ...also] = replies;
  if (!first) return null;
  return {
    ...first,
    ...(also.length > 0 ? { also } : {}),
    ...(choices.length > 0 ? { choices } : {}),
    ...(options.evenIfOptedOut ? { evenIfOptedOut: true } : {}),
    ...(options.gateway ? { gateway: options.gateway } : {}),
  };
}
