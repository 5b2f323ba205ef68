/**
 * Sends outbox messages: renders the message key for the recipient's medium and language at
 * send time, skips opted-out addresses, and hands the text to the channel's sender.
 */
import { mediumOf, type IdentityChannel } from '../domain.js';
import type { Reply } from '../i18n/reply.js';
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

/** A channel's way out: Telegram, an SMS gateway, the sandbox. */
export interface MessageSender {
  send(message: {
    identity: IdentityRecord;
    subscriber: SubscriberRecord;
    text: string;
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
    if (identity.optedOut) return { status: 'skipped', error: 'recipient opted out' };
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
    if (!isReply(item.payload)) return { status: 'failed', error: 'malformed message payload' };
    const medium = mediumOf(identity.channel);
    let text = this.translator.render(item.payload, {
      language: subscriber.language,
      medium,
      showOldPounds: subscriber.showOldPounds,
    });
    if (medium === 'sms' || identity.channel.startsWith('sandbox-')) text = stripIsolation(text);
    const result = await sender.send({ identity, subscriber, text, item });
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
