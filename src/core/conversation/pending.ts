/**
 * What a conversation leaves open between two messages, kept as JSON on the subscriber so that
 * it survives a restart and any instance answers the next message: the choices just offered
 * ("1", "2"), a question (the wallet number, an account number), and what is left of a long
 * answer (MORE).
 */
import type { Choice } from '../i18n/reply.js';
import type { SubscriberRecord } from '../ports/store.port.js';
import { isMoreState, type MoreState } from './paging.js';

/** A question left open expires after this long; an old "1" must not pay a bill. */
export const PENDING_TTL_MS = 30 * 60_000;

export type AccountIntent = 'bill' | 'pay' | 'add' | 'remove';

export type Pending = (
  | { kind: 'choices'; payloads: string[] }
  | { kind: 'wallet'; payload: string }
  /** The biller is known and the account number is awaited ("ADD electricity", then "1000101"). */
  | { kind: 'account'; intent: AccountIntent; billerId: string }
) & {
  /** The rest of a long answer, given on MORE. */
  more?: MoreState;
};

/** The subscriber's open pending state, or null (none, expired, or unreadable). */
export function openPending(subscriber: SubscriberRecord, now: Date): Pending | null {
  if (!subscriber.pending || !subscriber.pendingAt) return null;
  if (now.getTime() - subscriber.pendingAt.getTime() > PENDING_TTL_MS) return null;
  try {
    const value = JSON.parse(subscriber.pending) as Pending;
    if (value.kind !== 'choices' && value.kind !== 'wallet' && value.kind !== 'account')
      return null;
    if (value.more !== undefined && !isMoreState(value.more)) return { ...value, more: undefined };
    return value;
  } catch {
    return null;
  }
}

/** True when a number answers something: the pending state offers choices. */
export function offersChoices(pending: Pending | null): boolean {
  return pending?.kind === 'choices' && pending.payloads.length > 0;
}

/**
 * The pending state a turn leaves: the question it set (or null, closed), else the choices it
 * offered; with what is left of its long answer.
 */
export function pendingAfter(turn: {
  pending?: Pending | null;
  choices: Choice[];
  more?: MoreState | null;
}): Pending | null {
  const next: Pending | null =
    turn.pending !== undefined
      ? turn.pending
      : turn.choices.length > 0
        ? { kind: 'choices', payloads: turn.choices.map((c) => c.payload) }
        : null;
  if (!turn.more) return next;
  return { ...(next ?? { kind: 'choices', payloads: [] }), more: turn.more };
}
