/**
 * SMS cost guard (DESIGN §8): {@link ReplyCap}, most replies to one sender per hour
 * (`SMS_REPLIES_PER_HOUR`): an auto-responder answering our replies would otherwise loop, and
 * every loop costs money. (Parts per second per gateway are the outbox's rate gates.)
 */
import type { Clock } from '../core/ports/clock.port.js';
import type { Store } from '../core/ports/store.port.js';

const HOUR_MS = 3_600_000;

/** Every reply the SMS inbox queues has a dedupe key that starts so (and nothing else does). */
export const SMS_REPLY_KEY_PREFIX = 'sms:';

/** The outbox key of the reply to one inbound SMS (recorded under `inboundKey`) for an identity. */
export function smsReplyKey(inboundKey: string, identityId: string): string {
  return `${SMS_REPLY_KEY_PREFIX}${inboundKey}:${identityId}`;
}

/**
 * At most `maxPerHour` replies to one sender in any sliding hour, counted from the outbox,
 * where every reply is queued before it is sent: the count is durable and shared, so the cap
 * holds across restarts and across instances (an in-memory count was per process and started
 * again from zero). One indexed count per inbound message.
 */
export class ReplyCap {
  constructor(
    private readonly maxPerHour: number,
    private readonly store: Pick<Store, 'countOutboxSince'>,
    private readonly clock: Clock,
  ) {}

  /** Replies queued to the identity in the last hour. */
  async count(identityId: string): Promise<number> {
    const since = new Date(this.clock.now().getTime() - HOUR_MS);
    return this.store.countOutboxSince({
      identityId,
      since,
      dedupeKeyPrefix: SMS_REPLY_KEY_PREFIX,
    });
  }

  /** Whether one more reply to the identity fits in its hour. */
  async allows(identityId: string): Promise<boolean> {
    return (await this.count(identityId)) < this.maxPerHour;
  }
}
