/** /start: welcome (and back in after a STOP), then the language, then the governorate. */
import { Composer, type Context } from 'grammy';
import type { Choice } from '../../core/i18n/reply.js';
import type { BotDeps } from '../deps.js';
import { converse, respond } from '../turn.js';

export const languageChoices: Choice[] = [
  { key: 'choice-language-ar', payload: 'عربي' },
  { key: 'choice-language-en', payload: 'ENGLISH' },
];

export function startFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.command('start', async (ctx) => {
    const outcome = await converse(deps, ctx, { text: '/start' });
    if (!outcome) return;
    await respond(deps, ctx, outcome, {
      replies: [{ key: 'tg-choose-language' }],
      choices: languageChoices,
    });
  });
  return composer;
}
