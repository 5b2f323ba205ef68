/**
 * The SMS segment budget (issue 4): every SMS message, in Arabic and English, rendered with its
 * longest realistic arguments, must fit one part (70 UCS-2 / 160 GSM-7 characters), except the
 * few keys in {@link TWO_PART_KEYS}. `npm run sms:budget` prints the table; a test fails when a
 * message exceeds its budget.
 *
 * The worst case, argument by argument (written down so that it can be argued with):
 * - biller, payment channel, governorate, notify target: the longest name in the catalogue for
 *   that language (demo catalogue: "الاتصالات" / "Electricity", "كاش موبايل MTN" / "Bank
 *   transfer", "دير الزور" / "Deir ez-Zor");
 * - account: 12 digits, the longest the demo catalogue's account patterns allow;
 * - amount: 999,999 new pounds (99,999,900 qirsh). Electricity bills in the new pound run to
 *   tens of thousands of pounds; a million-pound utility bill is beyond any household's, so six
 *   digits of pounds with no qirsh is the realistic ceiling. Rendered both with and without the
 *   old-pound equivalent (subscribers who send OLD, and bills issued before 2026), and the longer
 *   one counts;
 * - payment reference: `P-` and 10 characters (src/core/ids.ts);
 * - period: "11-12" (two-month cycle, the longest label the billers print);
 * - due date: dd/mm on SMS; a bill past its due date says "overdue" instead, which is shorter;
 * - age of a cached bill: the longest of 59 minutes, 23 hours and 30 days;
 * - account holder: masked as the conversation shows it, from the longest demo name (4 words);
 * - count of followed accounts: 2 digits;
 * - payment instructions: the provider's own text (the simulated provider's, with the amount above).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Catalogue } from '../core/catalogue.js';
import { maskName } from '../core/conversation/conversation.service.js';
import { GOVERNORATES, type Language } from '../core/domain.js';
import { formatMoney, qirsh } from '../core/money.js';
import type { ReplyArgs } from '../core/i18n/reply.js';
import { LANGUAGES, MissingMessageError, type Translator } from '../core/i18n/translator.js';
import { cleanSmsText, measureSms, TWO_PART_KEYS, type SmsEncoding } from './sms-renderer.js';

/** The worst-case amount: 999,999 new pounds. */
export const WORST_AMOUNT_QIRSH = 99_999_900;
export const WORST_ACCOUNT = '123456789012';
export const WORST_REF = 'P-XXXXXXXXXX';
export const WORST_PERIOD = '11-12';
export const WORST_DUE = '2026-11-28';
export const WORST_COUNT = 20;
/** The longest account holder name of the demo biller, before masking. */
export const WORST_HOLDER = 'نور الدين طه الزعبي';
/** Ages of a cached bill tried; the longest rendering counts. */
const AGES_MS = [59 * 60_000, 23 * 3_600_000, 30 * 86_400_000];

/** Keys allowed two parts (kept beside the SMS packing, which reads them). */
export { TWO_PART_KEYS };

export interface BudgetRow {
  key: string;
  language: Language;
  /** The SMS text as rendered with the worst-case arguments. */
  text: string;
  /** True when the worst case is the rendering with old-pound amounts. */
  oldPounds: boolean;
  encoding: SmsEncoding;
  units: number;
  parts: number;
  budget: number;
  /** Why the key may take two parts, when it may. */
  reason: string | null;
  /** Variables with no worst case defined here (rendered as 10 characters): add them. */
  unknownArgs: string[];
  ok: boolean;
}

/** The id whose name is longest in `language`. */
function longestId(
  items: Array<{ id: string; name: { ar: string; en: string } }>,
  language: Language,
): string {
  const sorted = [...items].sort((a, b) => b.name[language].length - a.name[language].length);
  return sorted[0]?.id ?? '';
}

/** Worst-case arguments for every variable the .ftl files use; Fluent ignores the extra ones. */
export function worstCaseArgs(catalogue: Catalogue, language: Language, ageMs: number): ReplyArgs {
  const biller = longestId(catalogue.billers, language);
  const channel = longestId(catalogue.paymentChannels, language);
  const billerName = catalogue.billers.find((b) => b.id === biller)?.name[language] ?? '';
  const channelName = catalogue.paymentChannels.find((c) => c.id === channel)?.name[language] ?? '';
  const gov = [...GOVERNORATES].sort((a, b) => b[language].length - a[language].length)[0]!.code;
  return {
    biller: { biller },
    account: WORST_ACCOUNT,
    amount: { money: WORST_AMOUNT_QIRSH },
    ref: WORST_REF,
    period: WORST_PERIOD,
    due: { date: WORST_DUE },
    // "حتى 28/11" / "due 28/11" are longer than "متأخرة" / "overdue".
    overdue: 'no',
    age: { ago: ageMs },
    holder: maskName(WORST_HOLDER),
    count: WORST_COUNT,
    // A page's place in a long answer ("1-3 of 8").
    range: `${WORST_COUNT - 2}-${WORST_COUNT}`,
    // A local time of day (when a payment limit frees up).
    time: '23:59',
    gov: { gov },
    channel: { channel },
    name: billerName.length >= channelName.length ? { biller } : { channel },
    // The simulated provider's instructions (src/adapters/payment/simulated.payment.ts), worst amount.
    text: `Approve the payment of ${formatMoney(qirsh(WORST_AMOUNT_QIRSH), 'en')} in your wallet app (code 9999).`,
    // The `age` message itself: its longest form is tried below.
    unit: 'hours',
    plural: 'other',
  };
}

const AGE_FORMS: ReplyArgs[] = [
  { unit: 'minutes', count: 59, plural: 'other' },
  { unit: 'hours', count: 23, plural: 'other' },
  { unit: 'days', count: 30, plural: 'other' },
];

const LOCALES_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../locales');

/** Stands in for a variable this module does not know yet (reported in {@link BudgetRow.unknownArgs}). */
const UNKNOWN_ARG = 'XXXXXXXXXX';

/**
 * Keys that are never sent by SMS: those named `tg-…`, and every key under a Fluent group
 * comment that starts with "Telegram" (`## Telegram (… never sent by SMS)`), up to the next group.
 */
export function telegramOnlyKeys(language: Language, localesDir = LOCALES_DIR): Set<string> {
  const keys = new Set<string>();
  let telegramGroup = false;
  for (const line of readFileSync(join(localesDir, `${language}.ftl`), 'utf8').split(/\r?\n/)) {
    const group = /^##\s+(.*)$/.exec(line);
    if (group) {
      telegramGroup = /^telegram\b/i.test(group[1] ?? '');
      continue;
    }
    const id = /^([a-zA-Z][\w-]*)\s*=/.exec(line)?.[1];
    if (id && (telegramGroup || id.startsWith('tg-'))) keys.add(id);
  }
  return keys;
}

/** Renders, filling variables this module has no worst case for with a 10-character stand-in. */
function renderFilling(
  translator: Translator,
  key: string,
  args: ReplyArgs,
  ctx: { language: Language; medium: 'sms'; showOldPounds: boolean },
  unknown: Set<string>,
): string {
  const filled: ReplyArgs = { ...args };
  for (let i = 0; i < 10; i++) {
    try {
      return translator.render({ key, args: filled }, ctx);
    } catch (error) {
      const name =
        error instanceof MissingMessageError
          ? /Unknown variable: \$([\w-]+)/.exec(error.message)?.[1]
          : undefined;
      if (!name) throw error;
      unknown.add(name);
      filled[name] = UNKNOWN_ARG;
    }
  }
  return translator.render({ key, args: filled }, ctx);
}

export interface CheckSmsBudgetOptions {
  /** Where ar.ftl and en.ftl are (for finding Telegram-only keys). */
  localesDir?: string;
}

/**
 * Every message key of both languages that SMS may send, rendered for SMS with the worst-case
 * arguments. Telegram-only keys ({@link telegramOnlyKeys}) are left out.
 */
export function checkSmsBudget(
  translator: Translator,
  catalogue: Catalogue,
  options: CheckSmsBudgetOptions = {},
): BudgetRow[] {
  const rows: BudgetRow[] = [];
  for (const language of LANGUAGES) {
    const skip = telegramOnlyKeys(language, options.localesDir);
    for (const key of [...translator.keys(language)].sort()) {
      if (skip.has(key)) continue;
      let worst: { text: string; oldPounds: boolean } | null = null;
      const unknown = new Set<string>();
      for (const oldPounds of [false, true]) {
        const candidates =
          key === 'age'
            ? AGE_FORMS
            : AGES_MS.map((ageMs) => worstCaseArgs(catalogue, language, ageMs));
        for (const args of candidates) {
          const text = cleanSmsText(
            renderFilling(
              translator,
              key,
              args,
              { language, medium: 'sms', showOldPounds: oldPounds },
              unknown,
            ),
          );
          if (worst === null || measureSms(text).units > measureSms(worst.text).units) {
            worst = { text, oldPounds };
          }
        }
      }
      if (worst === null) continue;
      const m = measureSms(worst.text);
      const reason = TWO_PART_KEYS[key] ?? null;
      const budget = reason ? 2 : 1;
      rows.push({
        key,
        language,
        ...worst,
        ...m,
        budget,
        reason,
        unknownArgs: [...unknown],
        ok: m.parts <= budget,
      });
    }
  }
  return rows;
}

/** The rows over budget. */
export function overBudget(rows: BudgetRow[]): BudgetRow[] {
  return rows.filter((r) => !r.ok);
}

/** A plain-text table: key, language, characters, encoding, parts, budget. */
export function formatBudgetTable(rows: BudgetRow[]): string {
  const header = ['key', 'lang', 'chars', 'encoding', 'parts', 'budget', ''];
  const lines = rows.map((r) => [
    r.key,
    r.language,
    String(r.units),
    r.encoding,
    String(r.parts),
    String(r.budget),
    r.ok ? '' : `OVER${r.oldPounds ? ' (with old pounds)' : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...lines.map(fmt)].join('\n');
}
