/**
 * Sends outbox messages: renders the message key for the recipient's medium and language at
 * send time, skips opted-out addresses, and hands the text to the channel's sender.
 */
import { mediumOf, type IdentityChannel, type Language } from '../domain.js';
import type { Choice, Reply } from '../i18n/reply.js';
import { MissingMessageError, stripIsolation, type Translator } from '../i18n/translator.js';
import type { Clock } from '../ports/clock.port.js';
import type {
  IdentityRecord,
  OutboxItemRecord,
  OutboxOutcome,
  SentPart,
  Store,
  SubscriberRecord,
} from '../ports/store.port.js';
import { nextRetryAt } from './retry.js';

export type SendResult =
  /** `parts`: the message went out as several (SMS), each with its own provider id. */
  | { status: 'sent'; providerMessageId?: string | null; parts?: SentPart[]; receipts?: boolean }
  /** `parts`: those of several messages that went out before the failure. */
  | { status: 'temporary'; error: string; retryAfterMs?: number; parts?: SentPart[] }
  | { status: 'permanent'; error: string }
  /** The address refuses messages (blocked the bot, unsubscribed): stop all messages to it. */
  | { status: 'opted-out'; error: string }
  /** Not sent: while it waited for its turn, the message stopped being wanted (an opt-out). */
  | { status: 'withdrawn'; error: string };

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
  /** SMS replies: the turn's key for the auto-responder loop check (see reply-loop.ts). */
  loop?: string;
}

/** A channel's way out: Telegram, an SMS gateway, the sandbox. */
export interface MessageSender {
  send(message: {
    identity: IdentityRecord;
    subscriber: SubscriberRecord;
    text: string;
    /**
     * The replies `text` joins (one per line), when there are several: SMS sends each as a
     * message of its own unless they fit one part together (every key is written to fit its
     * budget alone, not joined to the next one).
     */
    replies?: string[];
    /** Rendered choices the message offers (buttons); absent when it offers none. */
    choices?: Array<{ label: string; payload: string }>;
    item: OutboxItemRecord;
    /**
     * Asked by a sender that had to wait for a rate limit, just before it sends: false when the
     * message is no longer wanted (the address opted out meanwhile), and then it is not sent.
     */
    stillWanted?: () => Promise<boolean>;
  }): Promise<SendResult>;
}

/** How long a sender may wait for its turn before it asks `stillWanted` (ms). */
export const STILL_WANTED_AFTER_MS = 50;

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

/** A rendered message: its replies' texts, and its choices' labels. */
export interface RenderedPayload {
  replies: string[];
  choices: Array<{ label: string; payload: string }> | undefined;
}

/**
 * Renders a message payload for its recipient, as it is sent (the SMS turn budget renders with
 * this too, so that what it counts is what goes out). SMS and the sandbox get plain text.
 */
export function renderPayload(
  translator: Translator,
  payload: MessagePayload,
  reader: { channel: IdentityChannel; language: Language; showOldPounds: boolean },
): RenderedPayload {
  const medium = mediumOf(reader.channel);
  const plain = medium === 'sms' || reader.channel.startsWith('sandbox-');
  const clean = (t: string) => (plain ? stripIsolation(t) : t);
  const ctx = { language: reader.language, medium, showOldPounds: reader.showOldPounds };
  return {
    replies: [payload, ...(payload.also ?? [])].map((r) => clean(translator.render(r, ctx))),
    choices: payload.choices?.map((c) => ({
      label: clean(translator.render(c, ctx)),
      payload: c.payload,
    })),
  };
}

function isStopConfirmation(payload: unknown): boolean {
  return isMessagePayload(payload) && payload.evenIfOptedOut === true;
}

/**
 * What a message says, decided when it is sent: keys rendered in the recipient's language, a
 * final text (a staff broadcast), or nothing (the bill was paid, the broadcast cancelled).
 */
export type Composed =
  | { payload: MessagePayload }
  | { text: string }
  | { skip: string }
  | { cancel: string }
  | { fail: string };

export type Composer = (
  item: OutboxItemRecord,
  identity: IdentityRecord,
  subscriber: SubscriberRecord,
) => Promise<Composed>;

export interface MessageHandlerOptions {
  /** The end of the quiet hours `now` is in, or null (bulk waits for it, urgent excepted). */
  quietUntil?: (now: Date) => Date | null;
}

export class MessageHandler {
  private readonly senders = new Map<IdentityChannel, MessageSender>();

  constructor(
    private readonly store: Store,
    private readonly translator: Translator,
    private readonly clock: Clock,
    private readonly options: MessageHandlerOptions = {},
  ) {}

  setSender(channel: IdentityChannel, sender: MessageSender): this {
    this.senders.set(channel, sender);
    return this;
  }

  /** Messages whose payload is the message (replies, receipts, notices). */
  readonly handle = (item: OutboxItemRecord): Promise<OutboxOutcome> =>
    this.deliver(item, () =>
      Promise.resolve(
        isMessagePayload(item.payload)
          ? { payload: item.payload }
          : { fail: 'malformed message payload' },
      ),
    );

  /** A handler for rows whose message is composed at send time (reminders, broadcasts). */
  handlerFor(compose: Composer): (item: OutboxItemRecord) => Promise<OutboxOutcome> {
    return (item) =>
      this.deliver(item, (identity, subscriber) => compose(item, identity, subscriber));
  }

  private async deliver(
    item: OutboxItemRecord,
    compose: (identity: IdentityRecord, subscriber: SubscriberRecord) => Promise<Composed>,
  ): Promise<OutboxOutcome> {
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
    if (item.lane === 'bulk' && !item.urgent) {
      // Claimed just before quiet hours began: wait for them to end, without losing a try.
      const quietEnd = this.options.quietUntil?.(now);
      if (quietEnd) return { status: 'deferred', reason: 'quiet hours', until: quietEnd };
    }
    const composed = await compose(identity, subscriber);
    if ('skip' in composed) return { status: 'skipped', error: composed.skip };
    if ('fail' in composed) return { status: 'failed', error: composed.fail };
    if ('cancel' in composed) return { status: 'cancelled', error: composed.cancel };
    let text: string;
    let replies: string[] = [];
    let choices: Array<{ label: string; payload: string }> | undefined;
    if ('text' in composed) {
      text = composed.text;
    } else {
      try {
        ({ replies, choices } = renderPayload(this.translator, composed.payload, {
          channel: identity.channel,
          language: subscriber.language,
          showOldPounds: subscriber.showOldPounds,
        }));
      } catch (error) {
        // A key this version no longer has (a reply queued by an older one) or arguments
        // that do not fit it: no retry can render it, so it fails now instead of every 30 s.
        if (error instanceof MissingMessageError) return { status: 'failed', error: error.message };
        throw error;
      }
      text = replies.join('\n');
    }
    const result = await sender.send({
      identity,
      subscriber,
      text,
      ...(replies.length > 1 ? { replies } : {}),
      ...(choices && choices.length > 0 ? { choices } : {}),
      item,
      // A STOP or a blocked bot recorded while this message waited for its rate limit wins,
      // and so does a cancel of its broadcast.
      stillWanted: async () => {
        if (item.broadcastId) {
          const broadcast = await this.store.getBroadcast(item.broadcastId);
          if (broadcast?.status === 'cancelled') return false;
        }
        return (
          isStopConfirmation(item.payload) ||
          (await this.store.getIdentity(identity.id))?.optedOut === false
        );
      },
    });
    switch (result.status) {
      case 'sent':
        return {
          status: 'sent',
          text,
          providerMessageId: result.providerMessageId ?? null,
          ...(result.parts ? { parts: result.parts } : {}),
          ...(result.receipts ? { receipts: true } : {}),
        };
      case 'temporary': {
        const at =
          result.retryAfterMs !== undefined
            ? new Date(now.getTime() + result.retryAfterMs)
            : nextRetryAt(now, item.attempts);
        return at
          ? {
              status: 'retry',
              error: result.error,
              nextAttemptAt: at,
              ...(result.parts ? { parts: result.parts } : {}),
            }
          : { status: 'failed', error: result.error };
      }
      case 'permanent':
        return { status: 'failed', error: result.error };
      case 'opted-out':
        await this.store.setOptedOut(identity.id, true, now);
        return { status: 'failed', error: result.error };
      case 'withdrawn': {
        // A cancelled broadcast's row counts as cancelled, an opted-out address's as skipped.
        const broadcast = item.broadcastId ? await this.store.getBroadcast(item.broadcastId) : null;
        return broadcast?.status === 'cancelled'
          ? { status: 'cancelled', error: 'broadcast cancelled' }
          : { status: 'skipped', error: result.error };
      }
    }
  }
}

/** The sandbox "delivers" by recording the text: GET /sandbox/messages reads it back. */
export const sandboxSender: MessageSender = {
  send: () => Promise.resolve({ status: 'sent', providerMessageId: null }),
};
