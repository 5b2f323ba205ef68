/**
 * From a conversation turn to the outbox: a turn's replies leave as one Telegram message (its
 * lines cannot then arrive out of order) carrying the turn's choices as an inline keyboard.
 * The outbox payload stores message keys, not text (see MessagePayload), so the message is
 * rendered when sent, in the subscriber's language of that moment.
 */
import type { Context } from 'grammy';
import type { ConversationOutcome } from '../core/conversation/conversation.service.js';
import type { Language } from '../core/domain.js';
import type { Choice, Reply } from '../core/i18n/reply.js';
import { turnMessagePayload } from '../core/outbox/turn-message.js';
import type { IdentityRecord } from '../core/ports/store.port.js';
import type { BotDeps } from './deps.js';

/** Telegram's limit on callback_data, in bytes. */
export const MAX_CALLBACK_DATA_BYTES = 64;

/** The payload of a choice rendered as Telegram's "share my contact" reply-keyboard button. */
export const SHARE_CONTACT = '#contact';

export function fitsCallbackData(payload: string): boolean {
  return Buffer.byteLength(payload, 'utf8') <= MAX_CALLBACK_DATA_BYTES;
}

/**
 * The chat a private update comes from, as the identity address; null for a group or channel
 * (identities are per person, never per group).
 */
export function chatAddress(ctx: Context): string | null {
  if (ctx.chat !== undefined && ctx.chat.type !== 'private') return null;
  const id = ctx.chat?.id ?? ctx.from?.id;
  return id === undefined ? null : String(id);
}

/** A new Telegram user is answered in Arabic unless their client says otherwise. */
export function languageOf(ctx: Context): Language {
  const code = ctx.from?.language_code;
  return code && !code.startsWith('ar') ? 'en' : 'ar';
}

/** The identity of the chat, created (in the client's language) on first contact. */
export async function identityOf(deps: BotDeps, ctx: Context): Promise<IdentityRecord | null> {
  const address = chatAddress(ctx);
  if (!address) return null;
  const { identity } = await deps.store.ensureIdentity('telegram', address, languageOf(ctx));
  return identity;
}

/**
 * Enqueues one message for the identity on the reply lane, keyed by the update so that an
 * update processed twice (a crash before it was marked done) sends its reply once.
 */
export async function enqueueReplies(
  deps: BotDeps,
  ctx: Context,
  identity: IdentityRecord,
  replies: Reply[],
  choices: Choice[] = [],
  options: { evenIfOptedOut?: boolean } = {},
): Promise<void> {
  const valid = choices.filter((c) => {
    if (fitsCallbackData(c.payload)) return true;
    deps.logger.warn({ payload: c.payload }, 'choice dropped: callback data over 64 bytes');
    return false;
  });
  const payload = turnMessagePayload(replies, valid, options);
  if (!payload) return;
  await deps.store.enqueue({
    kind: 'message',
    lane: 'reply',
    identityId: identity.id,
    channel: 'telegram',
    address: identity.address,
    payload,
    dedupeKey: `telegram:${ctx.update.update_id}:${identity.id}`,
    nextAttemptAt: deps.clock.now(),
  });
  deps.wake();
}

/** Sends a conversation outcome, with whatever the feature adds after it. */
export async function respond(
  deps: BotDeps,
  ctx: Context,
  outcome: ConversationOutcome,
  extra: { replies?: Reply[]; choices?: Choice[] } = {},
): Promise<void> {
  if (!outcome.deliver) return;
  const stopping = outcome.identity.optedOut;
  // Asked for a wallet number: offer to share the contact instead of typing it.
  const contact: Choice[] = outcome.replies.some((r) => r.key === 'ask-wallet')
    ? [{ key: 'choice-share-contact', payload: SHARE_CONTACT }]
    : [];
  await enqueueReplies(
    deps,
    ctx,
    outcome.identity,
    [...outcome.replies, ...(stopping ? [] : (extra.replies ?? []))],
    stopping ? [] : [...outcome.choices, ...(extra.choices ?? []), ...contact],
    // The one confirmation of a STOP goes out although the address has just opted out.
    { evenIfOptedOut: stopping },
  );
}

/** Runs a text (or a button payload) through the conversation engine for this chat. */
export async function converse(
  deps: BotDeps,
  ctx: Context,
  input: { text: string; ownNumber?: boolean } | { payload: string },
): Promise<ConversationOutcome | null> {
  const address = chatAddress(ctx);
  if (!address) return null;
  return deps.conversation.handle({ channel: 'telegram', address, ...input });
}
