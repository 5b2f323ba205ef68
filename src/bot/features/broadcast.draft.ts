/**
 * The state of a staff member's /broadcast while they compose it, and the buttons' data.
 *
 * The draft is kept where the conversation keeps its open question (the subscriber's `pending`,
 * with the same lifetime), so it survives a restart, and any other conversation turn of that
 * person replaces it. Every step's buttons carry that step's token: a button from an older
 * message, or pressed again after Send, finds no draft with its token and does nothing.
 */
import { randomBytes } from 'node:crypto';
import { PENDING_TTL_MS } from '../../core/conversation/conversation.service.js';
import type { BroadcastAudience, SubscriberRecord } from '../../core/ports/store.port.js';
import type { BotDeps } from '../deps.js';

export type DraftStep = 'text' | 'audience' | 'confirm';

export interface BroadcastDraft {
  kind: 'broadcast';
  /** Changes with every step; the buttons of that step carry it. */
  token: string;
  step: DraftStep;
  /** The Arabic text, once given. */
  text?: string;
  /** The audience, once chosen (step 'confirm'). */
  audience?: BroadcastAudience;
}

/** A new step token: 6 hex characters, enough to tell one draft's steps apart. */
export function newToken(): string {
  return randomBytes(3).toString('hex');
}

/** The open draft of this subscriber, or null (none, expired, or another open question). */
export function openDraft(subscriber: SubscriberRecord, now: Date): BroadcastDraft | null {
  if (!subscriber.pending || !subscriber.pendingAt) return null;
  if (now.getTime() - subscriber.pendingAt.getTime() > PENDING_TTL_MS) return null;
  try {
    const value = JSON.parse(subscriber.pending) as Partial<BroadcastDraft> | null;
    if (value?.kind !== 'broadcast' || typeof value.token !== 'string') return null;
    if (value.step !== 'text' && value.step !== 'audience' && value.step !== 'confirm') return null;
    return value as BroadcastDraft;
  } catch {
    return null;
  }
}

/** Stores the draft (or drops it with null); the question's lifetime starts again. */
export async function saveDraft(
  deps: BotDeps,
  subscriberId: string,
  draft: BroadcastDraft | null,
): Promise<void> {
  await deps.store.updateSubscriber(subscriberId, {
    pending: draft ? JSON.stringify(draft) : null,
    pendingAt: draft ? deps.clock.now() : null,
  });
}

/**
 * Button data (≤ 64 bytes): `BC <token> <action> [value]` for the draft's steps,
 * `BCP <broadcastId>` (progress) and `BCX <broadcastId>` (cancel) for a sent broadcast.
 */
export const DRAFT_BUTTON =
  /^BC ([0-9a-f]{6}) (all|gov|biller|lang|send|urgent|drop)(?: ([A-Za-z0-9_-]{1,40}))?$/;
export const SENT_BUTTON = /^BC([PX]) (B-[A-Za-z0-9-]{1,60})$/;

export type DraftAction = 'all' | 'gov' | 'biller' | 'lang' | 'send' | 'urgent' | 'drop';

export function draftButton(token: string, action: DraftAction, value?: string): string {
  return value === undefined ? `BC ${token} ${action}` : `BC ${token} ${action} ${value}`;
}

export function progressButton(broadcastId: string): string {
  return `BCP ${broadcastId}`;
}

export function cancelButton(broadcastId: string): string {
  return `BCX ${broadcastId}`;
}
