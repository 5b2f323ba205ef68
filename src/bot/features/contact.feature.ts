/**
 * A shared contact answers "which wallet number?": only the sender's own contact counts
 * (contact.user_id === from.id: Telegram vouches that the number is theirs, which makes them its
 * verified owner for the payment limits); a forwarded stranger's card is refused.
 */
import { Composer, type Context } from 'grammy';
import type { BotDeps } from '../deps.js';
import { converse, enqueueReplies, identityOf, respond } from '../turn.js';

export function contactFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on('message:contact', async (ctx) => {
    const contact = ctx.message.contact;
    if (contact.user_id !== ctx.from.id) {
      const identity = await identityOf(deps, ctx);
      if (identity) await enqueueReplies(deps, ctx, identity, [{ key: 'tg-contact-not-own' }]);
      return;
    }
    const digits = contact.phone_number.replace(/[^\d+]/g, '');
    const phone = digits.startsWith('+') ? digits : `+${digits}`;
    const outcome = await converse(deps, ctx, { text: phone, ownNumber: true });
    if (outcome) await respond(deps, ctx, outcome);
  });
  return composer;
}
