import { FluentBundle, FluentResource, type FluentVariable } from '@fluent/bundle';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Catalogue } from '../catalogue.js';
import { GOVERNORATES, type Language, type Medium } from '../domain.js';
import { formatMoney, oldPoundsText, qirsh } from '../money.js';
import type { Choice, Reply, ReplyArg, ReplyArgs } from './reply.js';

const LOCALES_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../locales');
export const LANGUAGES: readonly Language[] = ['ar', 'en'];

/** Fluent's bidi isolation marks (FSI … PDI) around placeables. */
export const ISOLATION_MARKS = /[\u2068\u2069]/g;

export interface RenderContext {
  language: Language;
  medium: Medium;
  /** Show the old-pound equivalent next to amounts. */
  showOldPounds?: boolean;
}

/**
 * Selector variables added to a message after it was first written, with the value that renders
 * it as before: a reply queued by an older version (its arguments are stored in the outbox)
 * still renders. Every other variable must be given.
 */
const SELECTOR_DEFAULTS: Readonly<Record<string, string>> = { overdue: 'no' };

export class MissingMessageError extends Error {
  readonly code = 'I18N.MISSING_MESSAGE';
}

/**
 * Renders message keys from the Fluent files, Arabic first. A message may carry an `.sms`
 * attribute: the shorter variant written to fit one SMS segment.
 */
export class Translator {
  private readonly bundles = new Map<Language, FluentBundle>();

  constructor(
    private readonly catalogue: Catalogue,
    localesDir = LOCALES_DIR,
  ) {
    for (const language of LANGUAGES) {
      const bundle = new FluentBundle(language, { useIsolating: true });
      const source = readFileSync(join(localesDir, `${language}.ftl`), 'utf8');
      const errors = bundle.addResource(new FluentResource(source));
      if (errors.length > 0) {
        throw new Error(`locales/${language}.ftl: ${errors.map((e) => e.message).join('; ')}`);
      }
      this.bundles.set(language, bundle);
    }
  }

  has(key: string, language: Language = 'ar'): boolean {
    return this.bundle(language).hasMessage(key);
  }

  /** All message ids of a language (for budget checks and completeness tests). */
  keys(language: Language): string[] {
    return [...this.bundle(language)._messages.keys()];
  }

  /** Renders one message; isolation marks are kept (a channel strips them if it must). */
  render(reply: Reply | Choice, ctx: RenderContext): string {
    const bundle = this.bundle(ctx.language);
    const message = bundle.getMessage(reply.key);
    if (!message?.value)
      throw new MissingMessageError(`no message "${reply.key}" in ${ctx.language}`);
    const pattern =
      ctx.medium === 'sms' && message.attributes.sms ? message.attributes.sms : message.value;
    const errors: Error[] = [];
    const text = bundle.formatPattern(pattern, this.resolveArgs(reply.args, ctx), errors);
    if (errors.length > 0) {
      throw new MissingMessageError(
        `message "${reply.key}": ${errors.map((e) => e.message).join('; ')}`,
      );
    }
    return text;
  }

  private bundle(language: Language): FluentBundle {
    const bundle = this.bundles.get(language);
    if (!bundle) throw new MissingMessageError(`no locale ${language}`);
    return bundle;
  }

  private resolveArgs(
    args: ReplyArgs | undefined,
    ctx: RenderContext,
  ): Record<string, FluentVariable> {
    const out: Record<string, FluentVariable> = { ...SELECTOR_DEFAULTS };
    for (const [name, value] of Object.entries(args ?? {})) out[name] = this.resolveArg(value, ctx);
    return out;
  }

  private resolveArg(value: ReplyArg, ctx: RenderContext): FluentVariable {
    // Numbers are pre-formatted as strings: Fluent's NUMBER would print Arabic-Indic digits in
    // Arabic, and bills, handsets and people here use ASCII digits.
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    const lang = ctx.language;
    if ('money' in value) {
      const amount = qirsh(value.money);
      const main = formatMoney(amount, lang);
      if (!ctx.showOldPounds && !value.old) return main;
      const old = oldPoundsText(amount, lang);
      return lang === 'ar' ? `${main} (${old} قديمة)` : `${main} (${old} old)`;
    }
    if ('date' in value) return formatDate(value.date, ctx.medium);
    if ('biller' in value) {
      const b = this.catalogue.billers.find((x) => x.id === value.biller);
      return b ? b.name[lang] : value.biller;
    }
    if ('channel' in value) {
      const c = this.catalogue.paymentChannels.find((x) => x.id === value.channel);
      return c ? c.name[lang] : value.channel;
    }
    if ('gov' in value) {
      const g = GOVERNORATES.find((x) => x.code === value.gov);
      return g ? g[lang] : value.gov;
    }
    if ('ago' in value) return this.render({ key: 'age', args: agoArgs(value.ago, lang) }, ctx);
    return this.render({ key: value.key }, ctx);
  }
}

/** "28/11" on SMS (the year is implied), "28/11/2026" elsewhere. */
export function formatDate(isoDate: string, medium: Medium): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!m) return isoDate;
  const [, y, mo, d] = m;
  return medium === 'sms' ? `${d}/${mo}` : `${d}/${mo}/${y}`;
}

/** Unit, count and the count's plural category (Arabic has six), given as plain strings. */
function agoArgs(ms: number, language: Language): ReplyArgs {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  const hours = Math.round(minutes / 60);
  const [unit, count] =
    minutes < 60
      ? ['minutes', minutes]
      : hours < 48
        ? ['hours', hours]
        : ['days', Math.round(hours / 24)];
  return { unit, count, plural: new Intl.PluralRules(language).select(count) };
}

/** Removes Fluent's isolation marks: for SMS and for the plain-text sandbox. */
export function stripIsolation(text: string): string {
  return text.replace(ISOLATION_MARKS, '');
}
