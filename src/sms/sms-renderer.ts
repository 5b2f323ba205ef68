/**
 * Renders a conversation turn for SMS, where every part costs money (docs/design.md §1, §9): Fluent's
 * isolation marks stripped, the choices numbered at the end of the last reply, short replies
 * packed into one message when they fit, and every message measured in segments with
 * `sms-segments-calculator` (GSM-7: 160 in one part, 153 per part of a longer message; UCS-2,
 * which every Arabic text is: 70 / 67).
 */
import { SegmentedMessage } from 'sms-segments-calculator';
import type { Choice, Reply } from '../core/i18n/reply.js';
import { stripIsolation, type Translator } from '../core/i18n/translator.js';
import type { SubscriberRecord } from '../core/ports/store.port.js';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

/** Characters per part: one-part message, and each part of a multi-part one. */
export const SMS_LIMITS: Record<SmsEncoding, { single: number; multi: number }> = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
};

/** What one SMS costs. */
export interface SmsMeasure {
  encoding: SmsEncoding;
  /**
   * Length in the encoding's units: GSM-7 septets (an escaped character such as `€` counts
   * two) or UCS-2 code units (an emoji counts two).
   */
  units: number;
  parts: number;
}

/** Measures a text as the network will split it. */
export function measureSms(text: string): SmsMeasure {
  const message = new SegmentedMessage(text, 'auto');
  const encoding: SmsEncoding = message.getEncodingName() === 'GSM-7' ? 'GSM-7' : 'UCS-2';
  const units = encoding === 'GSM-7' ? message.numberOfCharacters : text.length;
  return { encoding, units, parts: message.segmentsCount };
}

/** Fluent's isolation marks out, line ends unified, surrounding space trimmed. */
export function cleanSmsText(text: string): string {
  return stripIsolation(text).replace(/\r\n?/g, '\n').trim();
}

export interface RenderedSms extends SmsMeasure {
  text: string;
}

export interface SmsTurn {
  /** The messages to send, in order. */
  messages: RenderedSms[];
  /** The payloads behind "1", "2", … in the order shown. */
  choices: Array<{ label: string; payload: string }>;
}

export interface RenderSmsOptions {
  /** Most parts a message may take before choices move to a message of their own. Default 1. */
  maxParts?: number;
}

function numbered(labels: string[], compact: boolean): string {
  return labels.map((l, i) => (compact ? `${i + 1})${l}` : `${i + 1}) ${l}`)).join(' ');
}

function rendered(text: string): RenderedSms {
  return { text, ...measureSms(text) };
}

/**
 * Renders a turn for SMS. The choices go at the end of the last reply ("…\n1) ادفع 2) تابع");
 * if that would take the message past `maxParts`, a compact numbering is tried, then the choices
 * go in a message of their own. Consecutive short replies are joined (one line each) while the
 * result still fits in one part: one 2-line SMS costs less than two.
 */
export function renderSmsTurn(
  translator: Translator,
  turn: { replies: Reply[]; choices: Choice[] },
  subscriber: Pick<SubscriberRecord, 'language' | 'showOldPounds'>,
  options: RenderSmsOptions = {},
): SmsTurn {
  const maxParts = options.maxParts ?? 1;
  const ctx = {
    language: subscriber.language,
    medium: 'sms' as const,
    showOldPounds: subscriber.showOldPounds,
  };
  const texts = turn.replies.map((r) => cleanSmsText(translator.render(r, ctx)));
  const choices = turn.choices.map((c) => ({
    label: cleanSmsText(translator.render(c, ctx)),
    payload: c.payload,
  }));
  return {
    messages: packSms(
      texts,
      choices.map((c) => c.label),
      maxParts,
    ),
    choices,
  };
}

/**
 * Keys allowed two parts, and why (src/sms/sms-budget.ts checks every other key fits one).
 */
export const TWO_PART_KEYS: Readonly<Record<string, string>> = {
  receipt:
    'docs/design.md §9: a receipt may take two parts; it is the proof of payment and must name the amount, biller, account, channel and reference in full',
  'pay-instructions':
    "the payment provider's own text, passed through unchanged; its length is not ours to shorten",
};

/**
 * The SMS one outbox message goes out as: its rendered replies packed one by one (joined, two
 * one-part replies would make one two-part SMS, e.g. a bill line and its "last known bill"
 * note) with its numbered choices, a message led by a {@link TWO_PART_KEYS} key allowed two
 * parts before its choices move out. The SMS sender sends exactly this, and the turn budget
 * (src/sms/sms-turn-budget.ts) counts exactly this: one function, so they cannot drift.
 */
export function packTurn(turn: {
  /** The key of the message's first reply (the outbox payload's key). */
  firstKey: string | undefined;
  replies: string[];
  choiceLabels: string[];
}): RenderedSms[] {
  const maxParts = turn.firstKey !== undefined && turn.firstKey in TWO_PART_KEYS ? 2 : 1;
  return packSms(turn.replies.map(cleanSmsText), turn.choiceLabels.map(cleanSmsText), maxParts);
}

/** Packs texts and numbered choice labels into as few SMS parts as the rules above allow. */
export function packSms(texts: string[], choiceLabels: string[], maxParts = 1): RenderedSms[] {
  const messages: string[] = [];
  for (const text of texts) {
    if (text === '') continue;
    const last = messages[messages.length - 1];
    if (last !== undefined && measureSms(`${last}\n${text}`).parts <= 1) {
      messages[messages.length - 1] = `${last}\n${text}`;
    } else {
      messages.push(text);
    }
  }
  if (choiceLabels.length > 0) {
    const spaced = numbered(choiceLabels, false);
    const compact = numbered(choiceLabels, true);
    const last = messages[messages.length - 1];
    if (last === undefined) messages.push(spaced);
    else {
      const lastParts = Math.max(1, measureSms(last).parts);
      const budget = Math.max(maxParts, lastParts);
      if (measureSms(`${last}\n${spaced}`).parts <= budget) {
        messages[messages.length - 1] = `${last}\n${spaced}`;
      } else if (measureSms(`${last}\n${compact}`).parts <= budget) {
        messages[messages.length - 1] = `${last}\n${compact}`;
      } else {
        messages.push(measureSms(spaced).parts <= 1 ? spaced : compact);
      }
    }
  }
  return messages.map(rendered);
}
