/**
 * Slash commands that are words of the text grammar: /bills (BILL), /accounts (ACCOUNTS: each
 * account with its bill and stop-following buttons, a page at a time), /help (HELP), /stop
 * (STOP), /follow (ADD: biller buttons, then the account number is asked for).
 */
import { Composer, type Context } from 'grammy';
import type { BotDeps } from '../deps.js';
import { converse, respond } from '../turn.js';

export function commandsFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.command('bills', async (ctx) => {
    const outcome = await converse(deps, ctx, { text: '/bills' });
    if (outcome) await respond(deps, ctx, outcome);
  });
  composer.command('accounts', async (ctx) => {
    const outcome = await converse(deps, ctx, { text: '/accounts' });
    if (outcome) await respond(deps, ctx, outcome);
  });
  composer.command('help', async (ctx) => {
    const outcome = await converse(deps, ctx, { text: '/help' });
    if (outcome) await respond(deps, ctx, outcome, { replies: [{ key: 'tg-help' }] });
  });
  composer.command('stop', async (ctx) => {
    const outcome = await converse(deps, ctx, { text: '/stop' });
    if (outcome) await respond(deps, ctx, outcome);
  });
  composer.command('follow', async (ctx) => {
    const outcome = await converse(deps, ctx, { text: 'ADD' });
    if (outcome) await respond(deps, ctx, outcome);
  });
  return composer;
}
