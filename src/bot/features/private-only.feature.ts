/**
 * Private chats only; first in the bot, before anything records an identity.
 *
 * In a group every member would be one identity: member B's PAY would use member A's wallet
 * number, and bills and receipts would be posted to everyone. So in a group or supergroup the
 * bot answers once per chat, ever, with a link to its private chat, and does nothing else
 * there: no identity, no lookup, no payment, staff commands included. "Once" is a row per chat
 * claimed before sending (neither a restart nor another instance answers again); a crash
 * between the claim and the send loses the pointer, which is better than posting it twice.
 *
 * The pointer goes straight to the Bot API, not through the outbox: the outbox addresses
 * identities, and a group must never become one.
 *
 * A button pressed in a group is answered to the presser alone, and does nothing: the answer's
 * url opens the bot's private chat (`t.me/<bot>?start=group`, the one link the Bot API takes
 * there), since a link in the pop-up's text is not tappable. Channel posts are ignored: an
 * answer there would go to every reader.
 */
import { Composer, type Context } from 'grammy';
import { stripIsolation } from '../../core/i18n/translator.js';
import type { BotDeps } from '../deps.js';
import { languageOf } from '../turn.js';

export function privateOnlyFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.use(async (ctx, next) => {
    const chat = ctx.chat;
    if (chat === undefined || chat.type === 'private') return next();
    if (ctx.callbackQuery) {
      await answerPress(deps, ctx);
      return;
    }
    // Channel posts, edits, member updates: nothing.
    if (chat.type === 'channel' || ctx.message === undefined) return;
    if (!(await deps.store.claimTelegramGroupNotice(String(chat.id), deps.clock.now()))) return;
    try {
      await ctx.api.sendMessage(chat.id, pointer(deps, ctx), {
        link_preview_options: { is_disabled: true },
      });
    } catch (error) {
      // Removed from the group meanwhile, say: the group simply gets no pointer.
      deps.logger.warn(
        { err: error, chatType: chat.type },
        'could not send the pointer to a group',
      );
    }
  });
  return composer;
}

/** "Private chats only", with the link to the bot, in the language of whoever wrote. */
function pointer(deps: BotDeps, ctx: Context): string {
  const text = deps.translator.render(
    { key: 'tg-group-private-only', args: { link: `https://t.me/${ctx.me.username}` } },
    { language: languageOf(ctx), medium: 'telegram' },
  );
  // Isolation marks around the link could keep Telegram from recognising it.
  return stripIsolation(text);
}

async function answerPress(deps: BotDeps, ctx: Context): Promise<void> {
  try {
    await ctx.answerCallbackQuery({
      text: pointer(deps, ctx),
      url: `https://t.me/${ctx.me.username}?start=group`,
    });
  } catch (error) {
    deps.logger.warn({ err: error }, 'could not answer a callback query');
  }
}
