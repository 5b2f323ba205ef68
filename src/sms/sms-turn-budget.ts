/**
 * What the answer to one inbound message may cost by SMS (DESIGN §9): 3 parts in all, counted
 * as the SMS front will send it (rendered, packed with its numbered choices, measured), so that
 * one sender costs at most 3 × SMS_REPLIES_PER_HOUR parts an hour. Longer answers are paged by
 * the conversation (src/core/conversation/paging.ts).
 */
import type { ConversationResult } from '../core/i18n/reply.js';
import type { Translator } from '../core/i18n/translator.js';
import type { TurnReader } from '../core/conversation/paging.js';
import { TWO_PART_KEYS } from './sms-budget.js';
import { cleanSmsText, packSms } from './sms-renderer.js';

/** Most SMS parts one inbound message's answer takes. */
export const SMS_TURN_MAX_PARTS = 3;

/** The SMS parts a turn costs, packed as src/sms-front/sms.sender.ts packs it. */
export function smsTurnParts(
  translator: Translator,
  turn: ConversationResult,
  reader: Omit<TurnReader, 'channel'>,
): number {
  const ctx = {
    language: reader.language,
    medium: 'sms' as const,
    showOldPounds: reader.showOldPounds,
  };
  const first = turn.replies[0];
  const messages = packSms(
    turn.replies.map((r) => cleanSmsText(translator.render(r, ctx))),
    turn.choices.map((c) => cleanSmsText(translator.render(c, ctx))),
    first && first.key in TWO_PART_KEYS ? 2 : 1,
  );
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
