/**
 * What the answer to one Telegram message may hold. A turn leaves as one message (src/bot/turn.ts),
 * which Telegram refuses past 4,096 characters; a long answer is paged well before that, leaving
 * room for what a feature adds after the conversation's replies (the help line, the tour), and
 * keeping a keyboard of a few buttons, not dozens.
 */
import type { ConversationResult } from '../core/i18n/reply.js';
import type { Translator } from '../core/i18n/translator.js';
import type { TurnReader } from '../core/conversation/paging.js';

/** Most characters of a turn's replies on Telegram (one message holds 4,096). */
export const TELEGRAM_TURN_MAX_CHARS = 3_000;
/** Most buttons the conversation offers in one turn. */
export const TELEGRAM_TURN_MAX_CHOICES = 12;

/** Whether a turn fits one readable Telegram message. */
export function fitsTelegramTurn(
  translator: Translator,
  turn: ConversationResult,
  reader: Omit<TurnReader, 'channel'>,
): boolean {
  if (turn.choices.length > TELEGRAM_TURN_MAX_CHOICES) return false;
  const ctx = {
    language: reader.language,
    medium: 'telegram' as const,
    showOldPounds: reader.showOldPounds,
  };
  let length = 0;
  for (const r of turn.replies) length += translator.render(r, ctx).length + 1;
  return length <= TELEGRAM_TURN_MAX_CHARS;
}
