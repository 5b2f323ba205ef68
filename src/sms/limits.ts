/**
 * SMS cost guards (docs/design.md §8, §9), both read from the outbox in one statement per inbound
 * message: {@link ReplyCap}, most replies to one sender per hour (`SMS_REPLIES_PER_HOUR`), and
 * the auto-responder loop check (src/core/conversation/reply-loop.ts): an auto-responder
 * answering our replies would otherwise loop, and every loop costs money. (Parts per second
 * per gateway are the outbox's rate gates.)
 */
import {
  LOOP_REPEATS,
  LOOP_SILENCE_MS,
  LOOP_WITHHELD,
  isLoopExempt,
  loopKey,
  loopVerdict,
} from '../core/conversation/reply-loop.js';
import type { MessagePayload } from '../core/outbox/message.handler.js';
import type { Clock } from '../core/ports/clock.port.js';
import type { Store } from '../core/ports/store.port.js';

const HOUR_MS = 3_600_000;

/** Every reply the SMS inbox queues has a dedupe key that starts so (and nothing else does). */
export const SMS_REPLY_KEY_PREFIX = 'sms:';

/** The outbox key of the reply to one inbound SMS (recorded under `inboundKey`) for an identity. */
export function smsReplyKey(inboundKey: string, identityId: string): string {
  return `${SMS_REPLY_KEY_PREFIX}${inboundKey}:${identityId}`;
}

/** What to do with a reply the conversation decided. */
export type ReplyCheck =
  /** Queue it; `payload` carries the turn's loop key when the turn could be a loop. */
  | { verdict: 'send'; payload: MessagePayload }
  /** The sender had their replies for the hour: nothing is queued. */
  | { verdict: 'capped' }
  /** The third of a loop: queue `payload` as withheld (recorded, never sent). */
  | { verdict: 'withhold'; payload: MessagePayload; reason: string }
  /** The loop's hour of silence goes on: nothing is queued. */
  | { verdict: 'silent' };

/** The turn being answered, as the loop check reads it. */
export interface ReplyTurn {
  /** The inbound text. */
  text: string;
  /** Whether the front read it as STOP / START / HELP (never a loop). */
  keyword: boolean;
  reply: MessagePayload;
}

function loopKeyOf(payload: unknown): string | null {
  const key = (payload as { loop?: unknown } | null)?.loop;
  return typeof key === 'string' ? key : null;
}

/**
 * At most `maxPerHour` replies to one sender in any sliding hour, and no answer to an
 * auto-responder loop, both counted from the outbox, where every reply is queued before it is
 * sent: the count is durable and shared, so the guards hold across restarts and instances.
 * One indexed statement per inbound message (the sender's replies of the last hour).
 */
export class ReplyCap {
  constructor(
    private readonly maxPerHour: number,
    private readonly store: Pick<Store, 'recentReplies'>,
    private readonly clock: Clock,
  ) {}

  private recent(identityId: string, now: Date) {
    // The window covers the loop's hour of silence as well as the cap's hour.
    return this.store.recentReplies({
      identityId,
      since: new Date(now.getTime() - Math.max(HOUR_MS, LOOP_SILENCE_MS)),
      dedupeKeyPrefix: SMS_REPLY_KEY_PREFIX,
      withheld: LOOP_WITHHELD,
      latest: LOOP_REPEATS - 1,
    });
  }

  /** Replies queued to the identity in the last hour (those withheld as a loop left out). */
  async count(identityId: string): Promise<number> {
    return (await this.recent(identityId, this.clock.now())).answered;
  }

  /** Whether one more reply to the identity fits in its hour. */
  async allows(identityId: string): Promise<boolean> {
    return (await this.count(identityId)) < this.maxPerHour;
  }

  /** The cap and the loop check for a reply to `identityId`. */
  async check(identityId: string, turn: ReplyTurn): Promise<ReplyCheck> {
    const now = this.clock.now();
    const { answered, latest } = await this.recent(identityId, now);
    if (isLoopExempt(turn.text, turn.keyword)) {
      return answered < this.maxPerHour
        ? { verdict: 'send', payload: turn.reply }
        : { verdict: 'capped' };
    }
    const { gateway: _gateway, ...reply } = turn.reply;
    const key = loopKey(turn.text, reply);
    const payload: MessagePayload = { ...turn.reply, loop: key };
    const verdict = loopVerdict(
      latest.map((r) => ({ at: r.at, loopKey: loopKeyOf(r.payload), withheld: r.withheld })),
      key,
      now,
    );
    if (verdict === 'silent') return { verdict };
    if (verdict === 'withhold') return { verdict, payload, reason: LOOP_WITHHELD };
    return answered < this.maxPerHour ? { verdict: 'send', payload } : { verdict: 'capped' };
  }
}
