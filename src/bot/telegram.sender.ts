/**
 * The outbox's way out to Telegram: one sendMessage per outbox item, choices as an inline
 * keyboard. It uses its own Api without the auto-retry plugin, because retrying is the
 * outbox's job (a 429 becomes a later attempt at now + retry_after, recorded on the row).
 */
import { GrammyError, HttpError, type Api } from 'grammy';
import type { InlineKeyboardButton, KeyboardButton, ReplyKeyboardMarkup } from 'grammy/types';
import type { InlineKeyboardMarkup } from 'grammy/types';
import {
  STILL_WANTED_AFTER_MS,
  type MessageSender,
  type SendResult,
} from '../core/outbox/message.handler.js';
import { PerKeySpacing, RateGate } from '../core/outbox/rate-gate.js';
import { fitsCallbackData, SHARE_CONTACT } from './turn.js';

/** Labels this short sit two to a row; longer ones get a row each. */
const SHORT_LABEL = 16;

export function keyboardFor(
  choices: Array<{ label: string; payload: string }>,
): InlineKeyboardMarkup | ReplyKeyboardMarkup | null {
  const contact = choices.find((c) => c.payload === SHARE_CONTACT);
  if (contact) {
    const button: KeyboardButton = { text: contact.label, request_contact: true };
    return { keyboard: [[button]], one_time_keyboard: true, resize_keyboard: true };
  }
  const buttons: InlineKeyboardButton[] = choices
    .filter((c) => fitsCallbackData(c.payload))
    .map((c) => ({ text: c.label, callback_data: c.payload }));
  if (buttons.length === 0) return null;
  const perRow = buttons.every((b) => [...b.text].length <= SHORT_LABEL) ? 2 : 1;
  const rows: InlineKeyboardButton[][] = [];
  for (let i = 0; i < buttons.length; i += perRow) rows.push(buttons.slice(i, i + perRow));
  return { inline_keyboard: rows };
}

/** Maps a Bot API failure to what the outbox does next (docs/design.md §8). */
export function classifyTelegramError(error: unknown): SendResult {
  if (error instanceof GrammyError) {
    const what = `telegram ${error.error_code}: ${error.description}`;
    // "bot was blocked by the user", "user is deactivated": stop every message to that chat.
    if (error.error_code === 403) return { status: 'opted-out', error: what };
    if (error.error_code === 429) {
      const seconds = error.parameters.retry_after ?? 5;
      return { status: 'temporary', error: what, retryAfterMs: seconds * 1000 };
    }
    if (error.error_code >= 500) return { status: 'temporary', error: what };
    // 400 "chat not found" and other refusals of this one message.
    return { status: 'permanent', error: what };
  }
  if (error instanceof HttpError)
    return { status: 'temporary', error: `telegram: ${error.message}` };
  return {
    status: 'temporary',
    error: `telegram: ${error instanceof Error ? error.message : String(error)}`,
  };
}

/**
 * Telegram's limits (docs/design.md §8): bulk (reminders, broadcasts) at `bulkPerSecond` overall and
 * about one a second per chat; a person's replies are held to neither, only to Telegram's own
 * 429s. A 429 pauses bulk for its retry_after as well, since the bot as a whole is over.
 */
export interface TelegramGates {
  bulk: RateGate;
  perChat: PerKeySpacing;
}

export function telegramGates(bulkPerSecond: number): TelegramGates {
  return {
    bulk: new RateGate({ ratePerSecond: bulkPerSecond }),
    perChat: new PerKeySpacing(1_000),
  };
}

export function telegramSender(api: Api, gates: TelegramGates): MessageSender {
  return {
    async send({ identity, text, choices, item, stillWanted }) {
      const markup = choices ? keyboardFor(choices) : null;
      let release: (() => void) | undefined;
      let releaseChat: (() => void) | undefined;
      if (item.lane === 'bulk') {
        // The chat's turn first, then the bot's: a message waiting for its chat holds no slot
        // of the overall cap.
        const asked = performance.now();
        releaseChat = await gates.perChat.acquire(identity.address);
        // Counted from Telegram's answer (see RateGate): Telegram never sees more than the cap
        // in any second, at the price of a round trip per window slot.
        release = await gates.bulk.acquire(1, 2);
        if (performance.now() - asked > STILL_WANTED_AFTER_MS && stillWanted) {
          // A block recorded while this waited wins (if we cannot tell, send as before).
          const wanted = await stillWanted().catch(() => true);
          if (!wanted) {
            release();
            releaseChat();
            return {
              status: 'withdrawn',
              error: 'withdrawn while waiting for its turn (opted out, or its broadcast cancelled)',
            };
          }
        }
      }
      try {
        const sent = await api.sendMessage(identity.address, text, {
          ...(markup ? { reply_markup: markup } : {}),
          link_preview_options: { is_disabled: true },
        });
        return { status: 'sent', providerMessageId: String(sent.message_id) };
      } catch (error) {
        const result = classifyTelegramError(error);
        if (result.status === 'temporary' && result.retryAfterMs !== undefined)
          gates.bulk.pause(result.retryAfterMs);
        return result;
      } finally {
        release?.();
        releaseChat?.();
      }
    },
  };
}
