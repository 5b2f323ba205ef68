/**
 * Sends outbox messages: renders the message key for the recipient's medium and language at
 * send time, skips opted-out addresses, and hands the text to the channel's sender.
 */
import { mediumOf, type IdentityChannel } from '../domain.js';
import type { Choice, Reply } from '../i18n/reply.js';
import { stripIsolation, type Translator } from '../i18n/translator.js';
import type { Clock } from '../ports/clock.port.js';
import type {
  IdentityRecord,
  OutboxItemRecord,
  OutboxOutcome,
  Store,
  SubscriberRecord,
} from '../ports/store.port.js';
import { nextRetryAt } from './retry.js';

export type SendResult =
  | { status: 'sent'; providerMessageId?: string | null }
  | { status: 'temporary'; error: string; retryAfterMs?: number }
  | { status: 'permanent'; error: string }
  /** The address refuses messages (blocked the bot, unsubscribed): stop all messages to it. */
  | { status: 'opted-out'; error: string };

/**
 * What a message item carries: a reply (message key and arguments, rendered at send time in
 * the recipient's language), optionally followed by more replies sent as the same message
 * (`also`: a Telegram turn leaves as one message, so its lines cannot arrive out of order),
 * and the choices the message offers (`choices`: Telegram's inline keyboard). Keys, not
 * rendered text, are stored, so a message that waits renders in the language of the moment.
 */
export interface MessagePayload extends Reply {
  also?: Reply[];
  choices?: Choice[];
  /** The one confirmation of a STOP, sent although the address has just opted out. */
  evenIfOptedOut?: boolean;
  /** SMS: the gateway the recipient wrote in on (a reply goes back the same way). */
  gateway?: string;
}

/** A channel's way out: Telegram, an SMS gateway, the sandbox. */
export interface MessageSender {
  send(message: {
    identity: IdentityRecord;
    subscriber: SubscriberRecord;
    text: string;
    /** Rendered choices the message offers (buttons); absent when it offers none. */
    choices?: Array<{ label: string; payload: string }>;
    item: OutboxItemRecord;
  }): Promise<SendResult>;
}

export function isReply(value: unknown): value is Reply {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { key?: unknown }).key === 'string'
  );
}

/** A reply, with well-formed `also` and `choices` when present. */
export function isMessagePayload(value: unknown): value is MessagePayload {
  if (!isReply(value)) return false;
  const { also, choices } = value as { also?: unknown; choices?: unknown };
  if (also !== undefined && !(Array.isArray(also) && also.every(isReply))) return false;
  if (choices === undefined) return true;
  return (
    Array.isArray(choices) &&
    choices.every((c) => isReply(c) && typeof (c as { payload?: unknown }).payload === 'string')
  );
}

function isStopConfirmation(payload: unknown): boolean {
  return isMessagePayload(payload) && payload.evenIfOptedOut === true;
}

export class MessageHandler {
  private readonly senders = new Map<IdentityChannel, MessageSender>();

  constructor(
    private readonly store: Store,
    private readonly translator: Translator,
    private readonly clock: Clock,
  ) {}

  setSender(channel: IdentityChannel, sender: MessageSender): this {
    this.senders.set(channel, sender);
    return this;
  }

  readonly handle = async (item: OutboxItemRecord): Promise<OutboxOutcome> => {
    if (!item.identityId) return { status: 'failed', error: 'message without a recipient' };
    const identity = await this.store.getIdentity(item.identityId);
    if (!identity) return { status: 'failed', error: 'recipient no longer exists' };
    if (identity.optedOut && !isStopConfirmation(item.payload)) {
      return { status: 'skipped', error: 'recipient opted out' };
    }
    const subscriber = await this.store.getSubscriber(identity.subscriberId);
    if (!subscriber) return { status: 'failed', error: 'subscriber no longer exists' };
    const sender = this.senders.get(identity.channel);
    const now = this.clock.now();
    if (!sender) {
      const at = nextRetryAt(now, item.attempts);
      return at
        ? {
            status: 'retry',
            error: `channel ${identity.channel} is not configured`,
            nextAttemptAt: at,
          }
        : { status: 'failed', error: `channel ${identity.channel} is not configured` };
    }
    if (!isMessagePayload(item.payload)) {
      return { status: 'failed', error: 'malformed message payload' };
    }
    const payload = item.payload;
    const medium = mediumOf(identity.channel);
    const ctx = {
      language: subscriber.language,
      medium,
      showOldPounds: subscriber.showOldPounds,
    };
    const plain = medium === 'sms' || identity.channel.startsWith('sandbox-');
    const clean = (t: string) => (plain ? stripIsolation(t) : t);
    const text = [payload, ...(payload.also ?? [])]
      .map((r) => clean(this.translator.render(r, ctx)))
      .join('\n');
    const choices = payload.choices?.map((c) => ({
      label: clean(this.translator.render(c, ctx)),
      payload: c.payload,
    }));
    const result = await sender.send({
      identity,
      subscriber,
      text,
      ...(choices && choices.length > 0 ? { choices } : {}),
      item,
    });
    switch (result.status) {
      case 'sent':
        return { status: 'sent', text, providerMessageId: result.providerMessageId ?? null };
      case 'temporary': {
        const at =
          result.retryAfterMs !== undefined
            ? new Date(now.getTime() + result.retryAfterMs)
            : nextRetryAt(now, item.attempts);
        return at
          ? { status: 'retry', error: result.error, nextAttemptAt: at }
          : { status: 'failed', error: result.error };
      }
      case 'permanent':
        return { status: 'failed', error: result.error };
      case 'opted-out':
        await this.store.setOptedOut(identity.id, true, now);
        return { status: 'failed', error: result.error };
    }
  };
}

/** The sandbox "delivers" by recording the text: GET /sandbox/messages reads it back. */
export const sandboxSender: MessageSender = {
  send: () => Promise.resolve({ status: 'sent', providerMessageId: null }),
};
