/**
 * STOP / START / HELP on SMS (docs/design.md §7, §9): as the whole message they win over any open
 * conversation. The conversation grammar (src/core/conversation/grammar.ts) already knows the
 * words both channels share (إيقاف, STOP, UNSUBSCRIBE, بدء, START, مساعدة, ؟, HELP, …); this
 * module only adds what SMS needs beyond it:
 * - carrier and Twilio keywords (`OPTOUT`, `REVOKE`, `STOP ALL`) and common Arabic ways of
 *   saying stop ("توقف", "إلغاء الاشتراك", "ستوب");
 * - tolerance for the punctuation a phone keyboard adds ("Stop.", "ايقاف!");
 * - `YES` / `نعم` re-subscribe only a number that is opted out (Twilio re-subscribes on YES;
 *   for anyone else "yes" is an ordinary answer).
 *
 * `CANCEL` stays the grammar's "cancel the pending choice", although Twilio treats it as an
 * opt-out on its side: if Twilio does, the next send fails with 21610 and the number is marked
 * opted out from that answer; with Advanced Opt-Out on, Twilio's `OptOutType=STOP` says so at
 * once and wins over this module (see SmsInbox).
 *
 * Called by SmsInbox for every message before the conversation sees it.
 */
import type { Grammar } from '../core/conversation/grammar.js';
import { normalizeForMatch } from '../core/text/normalize.js';
import type { SmsKeyword } from './sms-gateway.port.js';

const n = normalizeForMatch;

/** Whole-message words beyond the grammar's, normalised. */
export const EXTRA_KEYWORDS: ReadonlyMap<string, SmsKeyword> = new Map<string, SmsKeyword>([
  ...[
    'stop all',
    'optout',
    'opt out',
    'opt-out',
    'revoke',
    'توقف',
    'اوقف',
    'أوقف',
    'ستوب',
    'الغاء الاشتراك',
    'إلغاء الاشتراك',
    'ايقاف الرسائل',
    'إيقاف الرسائل',
  ].map((w): [string, SmsKeyword] => [n(w), 'stop']),
  ...['opt in', 'optin', 'استئناف', 'ستارت'].map((w): [string, SmsKeyword] => [n(w), 'start']),
  ...['ساعدني', 'هيلب'].map((w): [string, SmsKeyword] => [n(w), 'help']),
]);

/** Words that bring back a number that is opted out, and mean nothing special otherwise. */
export const RESUBSCRIBE_WHEN_OPTED_OUT: ReadonlySet<string> = new Set(['yes', 'نعم'].map(n));

/** Punctuation a keyboard or a person adds around a keyword; `?` and `؟` are words themselves. */
const EDGE_PUNCTUATION = /^[\s.!,،؛;:\-_*"'«»()]+|[\s.!,،؛;:\-_*"'«»()]+$/gu;

/**
 * Whether the message is a word that brings back an opted-out number (YES, نعم): only then
 * does a caller need to know whether the sender is opted out.
 */
export function isResubscribeWord(text: string): boolean {
  return RESUBSCRIBE_WHEN_OPTED_OUT.has(n(text).replace(EDGE_PUNCTUATION, ''));
}

/**
 * The keyword a whole message is, or null. Longer messages ("stop sending me bills please")
 * are not keywords: they go to the conversation, which answers with help.
 */
export function smsKeyword(
  text: string,
  grammar: Grammar,
  state: { optedOut?: boolean } = {},
): SmsKeyword | null {
  const candidates = [text, n(text).replace(EDGE_PUNCTUATION, '')];
  for (const candidate of candidates) {
    if (candidate === '') continue;
    const command = grammar.parse(candidate);
    if (command.type === 'stop' || command.type === 'start' || command.type === 'help') {
      return command.type;
    }
    const extra = EXTRA_KEYWORDS.get(n(candidate));
    if (extra) return extra;
    if (state.optedOut && RESUBSCRIBE_WHEN_OPTED_OUT.has(n(candidate))) return 'start';
  }
  return null;
}
