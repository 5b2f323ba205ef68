/** /language: the two language buttons (their payloads are the grammar's عربي / ENGLISH). */
import { Composer, type Context } from 'grammy';
import type { BotDeps } from '../deps.js';
import { enqueueReplies, identityOf } from '../turn.js';
import { languageChoices } from './start.feature.js';

export function languageFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.command('language', async (ctx) => {
    const identity = await identityOf(deps, ctx);
    if (!identity) return;
    await enqueueReplies(deps, ctx, identity, [{ key: 'tg-choose-language' }], languageChoices);
  });
  return composer;
}
