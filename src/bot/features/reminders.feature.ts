/** /reminders: the current state and the button that switches it (REMIND ON / REMIND OFF). */
import { Composer, type Context } from 'grammy';
import { reply } from '../../core/i18n/reply.js';
import type { BotDeps } from '../deps.js';
import { enqueueReplies, identityOf } from '../turn.js';

export function remindersFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.command('reminders', async (ctx) => {
    const identity = await identityOf(deps, ctx);
    if (!identity) return;
    const subscriber = await deps.store.getSubscriber(identity.subscriberId);
    if (!subscriber) return;
    const on = subscriber.remindersEnabled;
    await enqueueReplies(
      deps,
      ctx,
      identity,
      [reply(on ? 'tg-reminders-on' : 'tg-reminders-off')],
      [
        on
          ? { key: 'choice-remind-off', payload: 'REMIND OFF' }
          : { key: 'choice-remind-on', payload: 'REMIND ON' },
      ],
    );
  });
  return composer;
}
