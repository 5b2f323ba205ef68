/**
 * Long answers in pages (docs/design.md §9). One inbound message never costs more than 3 SMS parts, so
 * an answer that would (BILL over every followed account, ACCOUNTS, an account with many unpaid
 * bills) gives the first page that fits the medium's budget, ending "1-3 of 8, MORE", and MORE
 * gives the next. What is left is kept with the subscriber's pending state (JSON in the
 * database): a restart loses nothing, and any instance serves the MORE.
 */
import { randomBytes } from 'node:crypto';
import { mediumOf, type IdentityChannel, type Language } from '../domain.js';
import { reply, type Choice, type ConversationResult, type Reply } from '../i18n/reply.js';

/** Who reads a turn: what its rendering, and so its cost, depends on. */
export interface TurnReader {
  channel: IdentityChannel;
  language: Language;
  showOldPounds: boolean;
}

/**
 * Whether a turn fits what the answer to one inbound message may cost on the reader's medium
 * (SMS: 3 parts in all, as the SMS front packs them; Telegram: one readable message).
 */
export type TurnBudget = (turn: ConversationResult, reader: TurnReader) => boolean;

/**
 * One entry of a long answer, never split: a bill line (each on its own, naming its account, so
 * that no entry is longer than a page), an account of ACCOUNTS.
 */
export interface PageItem {
  replies: Reply[];
  /**
   * The choices that go with the entry (on ACCOUNTS its bill, and on Telegram a button to stop
   * following it): offered with the page that shows it, and counted in that page's budget.
   */
  choices?: Choice[];
  /**
   * What must be read with the entry but is not one (the "last known bill" note of a biller
   * that is down): said once after each run of entries carrying it, on every page that shows
   * one of them, and never counted in "1-3 of 8".
   */
  note?: Reply;
}

/** What is left of a long answer. */
export interface MoreState {
  /**
   * Which list this is (random, per answer): Telegram's More button carries it, so that the
   * More of an older message does not page the list asked for since.
   */
  key: string;
  items: PageItem[];
  /** The place of `items[0]` in the whole answer, from 1. */
  from: number;
  total: number;
  /** Choices offered with every page (Pay and Follow under one account's bills). */
  choices: Choice[];
  /** Said before the items of every page (the question whose choices are paged). */
  lead?: Reply[];
}

export interface Page extends ConversationResult {
  /** What MORE gives next; null on the last page. */
  more: MoreState | null;
}

export interface Listing {
  /** Said once, before the first page's items (the ACCOUNTS header). */
  head?: Reply[];
  /** Said before the items of every page (the question whose choices are paged). */
  lead?: Reply[];
  items: PageItem[];
  choices?: Choice[];
}

/** The payload of Telegram's MORE button: the command itself, then the list's key. */
export const MORE_PAYLOAD = 'MORE';

export class Pager {
  /** `budget` null: every answer fits (no paging). */
  constructor(private readonly budget: TurnBudget | null) {}

  /** The first page of a long answer. */
  first(reader: TurnReader, listing: Listing): Page {
    const state: MoreState = {
      key: randomBytes(4).toString('hex'),
      items: listing.items,
      from: 1,
      total: listing.items.length,
      choices: listing.choices ?? [],
      ...(listing.lead ? { lead: listing.lead } : {}),
    };
    return this.next(reader, state, listing.head ?? []);
  }

  /**
   * Any other turn over the budget (a question with a choice for every biller of a long
   * catalogue): its replies, then as many of its choices as fit, the rest on MORE; a turn of
   * replies alone is paged reply by reply. Null when the turn fits as it is.
   */
  fit(reader: TurnReader, turn: ConversationResult): Page | null {
    if (!this.budget || this.budget(turn, reader)) return null;
    if (turn.choices.length === 0)
      return this.first(reader, { items: turn.replies.map((r) => ({ replies: [r] })) });
    return this.first(reader, {
      lead: turn.replies,
      items: turn.choices.map((choice) => ({ replies: [], choices: [choice] })),
    });
  }

  /**
   * The page that starts where `state` left off: as many whole items as fit, at least one. The
   * last page says no "MORE".
   */
  next(reader: TurnReader, state: MoreState, head: Reply[] = []): Page {
    const count = state.items.length;
    const all = pageOf(reader, state, head, count);
    if (!this.budget || count <= 1 || this.budget(all, reader)) return all;
    let best = pageOf(reader, state, head, 1);
    for (let k = 2; k < count; k++) {
      const page = pageOf(reader, state, head, k);
      if (!this.budget(page, reader)) break;
      best = page;
    }
    return best;
  }
}

/** The page showing the first `k` items of `state`. */
function pageOf(reader: TurnReader, state: MoreState, head: Reply[], k: number): Page {
  const shown = state.items.slice(0, k);
  const replies = [...head, ...(state.lead ?? []), ...withNotes(shown)];
  const choices = [...shown.flatMap((item) => item.choices ?? []), ...state.choices];
  if (k >= state.items.length) return { replies, choices, more: null };
  const to = state.from + k - 1;
  replies.push(
    reply('more-footer', {
      range: k > 1 ? `${state.from}-${to}` : String(to),
      count: state.total,
    }),
  );
  // SMS says MORE in the footer; Telegram offers it as a button too.
  if (mediumOf(reader.channel) === 'telegram') {
    choices.push({ key: 'choice-more', payload: `${MORE_PAYLOAD} ${state.key}` });
  }
  return {
    replies,
    choices,
    more: { ...state, items: state.items.slice(k), from: state.from + k },
  };
}

/** The items' replies, each note after the last of a run of items carrying it. */
function withNotes(items: PageItem[]): Reply[] {
  const replies: Reply[] = [];
  for (const [i, item] of items.entries()) {
    replies.push(...item.replies);
    const next = items[i + 1];
    if (item.note && !(next?.note && sameReply(next.note, item.note))) replies.push(item.note);
  }
  return replies;
}

function sameReply(a: Reply, b: Reply): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function isReplyLike(value: unknown): value is Reply {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { key?: unknown }).key === 'string'
  );
}

function isChoiceLike(value: unknown): value is Choice {
  return isReplyLike(value) && typeof (value as { payload?: unknown }).payload === 'string';
}

/** A stored MoreState read back from JSON (anything else is dropped as nothing pending). */
export function isMoreState(value: unknown): value is MoreState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof MoreState, unknown>>;
  return (
    typeof v.key === 'string' &&
    /^[0-9a-f]{1,16}$/.test(v.key) &&
    Number.isSafeInteger(v.from) &&
    Number.isSafeInteger(v.total) &&
    Array.isArray(v.choices) &&
    v.choices.every(isChoiceLike) &&
    (v.lead === undefined || (Array.isArray(v.lead) && v.lead.every(isReplyLike))) &&
    Array.isArray(v.items) &&
    v.items.every(
      (item: unknown) =>
        typeof item === 'object' &&
        item !== null &&
        Array.isArray((item as PageItem).replies) &&
        (item as PageItem).replies.every(isReplyLike) &&
        ((item as PageItem).note === undefined || isReplyLike((item as PageItem).note)) &&
        ((item as PageItem).choices === undefined ||
          (Array.isArray((item as PageItem).choices) &&
            (item as PageItem).choices!.every(isChoiceLike))),
    )
  );
}
