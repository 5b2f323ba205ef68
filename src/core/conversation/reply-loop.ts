/**
 * Auto-responder loops (docs/design.md §9): another machine that answers every message (a shop's
 * phone, a mail-merge, a carrier's service number) answers our reply, we answer that, and so
 * on, an SMS each way each time. The same text from the same sender 3 times in 10 minutes,
 * answered the same way each time, is therefore not answered for an hour: silently (the
 * message is processed as any other; nothing is sent). A person who needs the same answer
 * again rarely asks three times in ten minutes, and what they repeat on purpose is exempt:
 * `MORE` / `المزيد` (the next page), numbers (choices, account numbers) and the whole-message
 * STOP / START / HELP in all their forms.
 *
 * How it is told, without a statement of its own per message: every reply the SMS front queues
 * carries a key (a hash of the text answered and of the reply); the reply cap's one indexed
 * look at the sender's last hour of replies (src/sms/limits.ts) also brings the latest two
 * rows, which is all {@link loopVerdict} needs. A reply withheld is written once, as an outbox
 * row already skipped (the console counts it so), and that row keeps the rest of the hour silent.
 */
import { createHash } from 'node:crypto';
import { normalizeForMatch } from '../text/normalize.js';

/** A loop is this many identical texts answered identically... */
export const LOOP_REPEATS = 3;
/** ...within this window (from the first of them to the last). */
export const LOOP_WINDOW_MS = 10 * 60_000;
/** Then the text is not answered for this long. */
export const LOOP_SILENCE_MS = 60 * 60_000;

/** The `lastError` of the outbox row that records a reply withheld as a loop. */
export const LOOP_WITHHELD = 'auto-responder loop: not answered for an hour';

/** "Next page" in the words people use; the grammar reads them as the paging command. */
const MORE_WORDS: ReadonlySet<string> = new Set(['more', 'المزيد', 'مزيد'].map(normalizeForMatch));

/** Punctuation a keyboard adds around a word ("MORE.", "المزيد!"). */
const EDGE_PUNCTUATION = /^[\s.!,،؛;:\-_*"'«»()]+|[\s.!,،؛;:\-_*"'«»()]+$/gu;

/**
 * Whether a message is one people repeat on purpose, and is never treated as a loop: `keyword`
 * says it is STOP / START / HELP (as the front recognised it, e.g. with SMS's wider set of words).
 */
export function isLoopExempt(text: string, keyword: boolean): boolean {
  if (keyword) return true;
  const word = normalizeForMatch(text).replace(EDGE_PUNCTUATION, '');
  // Choices ("1"), account numbers ("100 01 01"), phone numbers ("+963 944 …").
  if (/^\+?[\d\s-]+$/.test(word)) return true;
  return MORE_WORDS.has(word);
}

/**
 * The key of a turn: the text answered (as the grammar reads it) and the reply it gets. Two
 * turns with the same key are "the same text, answered the same way".
 */
export function loopKey(text: string, reply: unknown): string {
  return createHash('sha256')
    .update(normalizeForMatch(text))
    .update('\u0000')
    .update(JSON.stringify(reply))
    .digest('base64url')
    .slice(0, 16);
}

/** One of the sender's latest replies, as the loop check reads it. */
export interface RecentReply {
  at: Date;
  /** The key it was queued with (null: an exempt turn, or one from before keys existed). */
  loopKey: string | null;
  /** A reply withheld as a loop (recorded, never sent). */
  withheld: boolean;
}

/**
 * answer: send the reply; withhold: the third of a loop, record it and send nothing; silent:
 * the loop's hour is not over, send nothing and record nothing.
 */
export type LoopVerdict = 'answer' | 'withhold' | 'silent';

/**
 * What to do with a reply keyed `key` at `now`, given the sender's latest replies, newest first
 * (the last {@link LOOP_REPEATS} - 1 are enough).
 */
export function loopVerdict(latest: readonly RecentReply[], key: string, now: Date): LoopVerdict {
  const last = latest[0];
  if (!last || last.loopKey !== key) return 'answer';
  if (last.withheld) {
    return now.getTime() - last.at.getTime() < LOOP_SILENCE_MS ? 'silent' : 'answer';
  }
  // The previous replies all answered this text this way, the first of them within the window.
  const previous = latest.slice(0, LOOP_REPEATS - 1);
  const first = previous[previous.length - 1];
  return previous.length === LOOP_REPEATS - 1 &&
    previous.every((r) => !r.withheld && r.loopKey === key) &&
    first !== undefined &&
    now.getTime() - first.at.getTime() <= LOOP_WINDOW_MS
    ? 'withhold'
    : 'answer';
}
