/**
 * The console's and the sandbox page's own texts (locales/console.ar.ftl, console.en.ftl),
 * Arabic first, rendered with Fluent as the conversation texts are, and the page language:
 * `?lang=en` switches and is remembered in a cookie; Arabic otherwise.
 */
import { FluentBundle, FluentResource, type FluentVariable } from '@fluent/bundle';
import type { Request, Response } from 'express';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Catalogue } from '../../core/catalogue.js';
import { GOVERNORATES, type Language } from '../../core/domain.js';
import { LANGUAGES } from '../../core/i18n/translator.js';
import { parseCookies } from './session.js';

const LOCALES_DIR = fileURLToPath(new URL('../../../locales/', import.meta.url));
export const LANGUAGE_COOKIE = 'tasdeed_lang';

export class ConsoleText {
  private readonly bundles = new Map<Language, FluentBundle>();

  constructor(
    private readonly catalogue: Catalogue,
    localesDir = LOCALES_DIR,
  ) {
    for (const language of LANGUAGES) {
      const bundle = new FluentBundle(language, { useIsolating: true });
      const source = readFileSync(`${localesDir}/console.${language}.ftl`, 'utf8');
      const errors = bundle.addResource(new FluentResource(source));
      if (errors.length > 0)
        throw new Error(
          `locales/console.${language}.ftl: ${errors.map((e) => e.message).join('; ')}`,
        );
      this.bundles.set(language, bundle);
    }
  }

  /** Message ids of a language (completeness tests). */
  keys(language: Language): string[] {
    return [...(this.bundles.get(language)?._messages.keys() ?? [])];
  }

  /** A text; an unknown key is an error a test finds, not a blank on a page. */
  t(language: Language, key: string, args?: Record<string, FluentVariable>): string {
    const bundle = this.bundles.get(language);
    const message = bundle?.getMessage(key);
    if (!bundle || !message?.value) throw new Error(`console text "${key}" missing in ${language}`);
    const errors: Error[] = [];
    const text = bundle.formatPattern(message.value, args ?? {}, errors);
    if (errors.length > 0)
      throw new Error(`console text "${key}": ${errors.map((e) => e.message).join('; ')}`);
    return text;
  }

  governorate(code: string | null, language: Language): string {
    const g = GOVERNORATES.find((x) => x.code === code);
    return g ? g[language] : this.t(language, 'unknown-governorate');
  }

  biller(id: string, language: Language): string {
    return this.catalogue.billers.find((b) => b.id === id)?.name[language] ?? id;
  }

  paymentChannel(id: string, language: Language): string {
    return this.catalogue.paymentChannels.find((c) => c.id === id)?.name[language] ?? id;
  }

  /** The text of `key` when the locale files have it, else `fallback` (codes shown as they are). */
  optional(language: Language, key: string, fallback: string): string {
    return this.bundles.get(language)?.hasMessage(key) ? this.t(language, key) : fallback;
  }

  /** An identity channel's name ('telegram', 'sandbox-sms', …). */
  identityChannel(channel: string, language: Language): string {
    return this.optional(language, `channel-${channel}`, channel);
  }
}

/** The page language: `?lang=` (remembered in a cookie for a year), else the cookie, else Arabic. */
export function pageLanguage(req: Request, res: Response): Language {
  const asked = req.query.lang;
  if (asked === 'ar' || asked === 'en') {
    res.cookie(LANGUAGE_COOKIE, asked, { sameSite: 'lax', path: '/', maxAge: 365 * 86_400_000 });
    return asked;
  }
  const saved = parseCookies(req.get('Cookie')).get(LANGUAGE_COOKIE);
  return saved === 'en' ? 'en' : 'ar';
}

/** The same path in the other language (the switch link). */
export function otherLanguage(language: Language): Language {
  return language === 'ar' ? 'en' : 'ar';
}
