/** Last: any other message goes through the text grammar, as on SMS (docs/design.md §9). */
import { Composer, type Context } from 'grammy';
import type { BotDeps } from '../deps.js';
import { converse, respond } from '../turn.js';
import { answer } from './buttons.feature.js';

export function unhandledFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on('message', async (ctx) => {
    // Stickers, photos…: answered like a message that is not understood.
    const outcome = await converse(deps, ctx, { text: ctx.message.text ?? '' });
    if (outcome) await respond(deps, ctx, outcome);
  });
  composer.on('callback_query', async (ctx) => {
    await answer(deps, ctx, 'tg-button-stale');
  });
  return composer;
}
