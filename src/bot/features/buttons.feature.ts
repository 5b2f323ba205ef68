/**
 * Button presses. The callback data is a command of the text grammar; it is checked before
 * anything happens: longer than Telegram allows, not a command, or on a message older than a
 * pending question lives (an old "Pay" must not pay today's bill) → a polite answer and
 * nothing else. Every callback query is answered.
 */
import { Composer, type Context } from 'grammy';
import { PENDING_TTL_MS } from '../../core/conversation/conversation.service.js';
import { GOVERNORATE_CODES } from '../../core/domain.js';
import type { Choice, Reply } from '../../core/i18n/reply.js';
import type { BotDeps } from '../deps.js';
import { converse, fitsCallbackData, identityOf, respond } from '../turn.js';

export function buttonsFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on('callback_query:data', async (ctx) => {
    const data = ctx.callbackQuery.data;
    const sentAt = ctx.callbackQuery.message?.date;
    const fresh =
      sentAt !== undefined && deps.clock.now().getTime() - sentAt * 1000 <= PENDING_TTL_MS;
    const command =
      fitsCallbackData(data) && fresh
        ? deps.conversation.grammar.parse(data, { fromPayload: true })
        : null;
    if (!command || command.type === 'unknown' || command.type === 'choice') {
      await answer(deps, ctx, 'tg-button-stale');
      return;
    }
    await answer(deps, ctx);
    const outcome = await converse(deps, ctx, { payload: data });
    if (!outcome) return;
    // Onboarding continues from the /start buttons: language → governorate → the tour.
    const replies: Reply[] = [];
    const choices: Choice[] = [];
    if (command.type === 'language' && !outcome.subscriber.governorate) {
      replies.push({ key: 'tg-choose-gov' });
      for (const code of GOVERNORATE_CODES) {
        choices.push({ key: 'choice-gov', args: { gov: { gov: code } }, payload: `GOV ${code}` });
      }
    } else if (command.type === 'gov' && command.code) {
      replies.push({ key: 'tg-tour' });
    }
    await respond(deps, ctx, outcome, { replies, choices });
  });
  return composer;
}

/** Answers the callback query (with a short text in the person's language, if given). */
export async function answer(
  deps: BotDeps,
  ctx: Context,
  key?: string,
  message: Reply | undefined = key ? { key } : undefined,
): Promise<void> {
  let text: string | undefined;
  if (message) {
    const identity = await identityOf(deps, ctx);
    const subscriber = identity ? await deps.store.getSubscriber(identity.subscriberId) : null;
    text = deps.translator.render(message, {
      language: subscriber?.language ?? 'ar',
      medium: 'telegram',
    });
  }
  try {
    await ctx.answerCallbackQuery(text ? { text } : undefined);
  } catch (error) {
    // The spinner stops by itself after a while; the press is still acted on.
    deps.logger.warn({ err: error }, 'could not answer a callback query');
  }
}
