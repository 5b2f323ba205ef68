/** /accounts: the followed accounts, each with a bill button and a "stop following" button. */
import { Composer, type Context } from 'grammy';
import type { Choice } from '../../core/i18n/reply.js';
import type { BotDeps } from '../deps.js';
import { converse, respond } from '../turn.js';

export function accountsFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.command('accounts', async (ctx) => {
    const outcome = await converse(deps, ctx, { text: '/accounts' });
    if (!outcome) return;
    const follows = await deps.store.followsOf(outcome.subscriber.id);
    const unfollow: Choice[] = follows.slice(0, 8).map((f) => ({
      key: 'choice-unfollow',
      args: { biller: { biller: f.billerId }, account: f.account },
      payload: `REMOVE ${f.billerId} ${f.account}`,
    }));
    await respond(deps, ctx, outcome, { choices: unfollow });
  });
  return composer;
}
