/**
 * What the answer to one inbound message may cost by SMS (docs/design.md §9): 3 parts in all, counted
 * as the SMS front will send it: the turn made into its outbox message, rendered and packed by
 * the same functions the outbox and the SMS sender use (renderPayload, packTurn), so that one
 * sender costs at most 3 × SMS_REPLIES_PER_HOUR parts an hour. Longer answers are paged by the
 * conversation (src/core/conversation/paging.ts).
 */
import type { ConversationResult } from '../core/i18n/reply.js';
import type { Translator } from '../core/i18n/translator.js';
import type { TurnReader } from '../core/conversation/paging.js';
import { renderPayload } from '../core/outbox/message.handler.js';
import { turnMessagePayload } from '../core/outbox/turn-message.js';
import { packTurn } from './sms-renderer.js';

/** Most SMS parts one inbound message's answer takes. */
export const SMS_TURN_MAX_PARTS = 3;

/** The SMS parts a turn costs, as src/sms-front/sms-inbox.ts queues it and the sender sends it. */
export function smsTurnParts(
  translator: Translator,
  turn: ConversationResult,
  reader: Omit<TurnReader, 'channel'>,
): number {
  const payload = turnMessagePayload(turn.replies, turn.choices);
  if (!payload) return 0;
  const rendered = renderPayload(translator, payload, { ...reader, channel: 'sms' });
  const messages = packTurn({
    firstKey: payload.key,
    replies: rendered.replies,
    choiceLabels: (rendered.choices ?? []).map((c) => c.label),
  });
  return messages.reduce((sum, m) => sum + Math.max(1, m.parts), 0);
}

/** Whether a turn fits {@link SMS_TURN_MAX_PARTS}. */
export function fitsSmsTurn(
  translator: Translator,
  turn: ConversationResult,
  reader: Omit<TurnReader, 'channel'>,
): boolean {
  return smsTurnParts(translator, turn, reader) <= SMS_TURN_MAX_PARTS;
}
