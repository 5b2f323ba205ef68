/**
 * The sandbox page (GET /sandbox, issue 7): two phones side by side, a Telegram-like chat with
 * buttons and a feature phone's SMS screen with each message's segment count, both talking to
 * the core through the sandbox channel (POST/GET /sandbox/messages). Served whenever the
 * sandbox is on; the rest of the sandbox router answers 404 otherwise.
 */
import { Router, type Request, type Response } from 'express';
import { fileURLToPath } from 'node:url';
import type { Language } from '../../core/domain.js';
import { Assets, consoleAsset } from '../console/assets.js';
import { ConsoleText, otherLanguage, pageLanguage } from '../console/console-text.js';
import { html, jsonScript, sendHtml, type SafeHtml } from '../console/html.js';
import type { HttpDeps } from '../http.app.js';

function asset(name: string): string {
  return fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
}

export function sandboxAssets(): Assets {
  return new Assets('/sandbox/assets', {
    'sandbox.css': asset('sandbox.css'),
    'sandbox.js': asset('sandbox.js'),
    // The same counting rule as the broadcast composer's.
    'sms-parts.js': consoleAsset('sms-parts.js'),
  });
}

/** Example messages a newcomer can send with one press (the demo catalogue's accounts). */
const EXAMPLES: Record<Language, string[]> = {
  ar: ['فاتورة كهرباء 1000101', 'ادفع كهرباء 1000101', 'حساباتي', 'مساعدة'],
  en: ['BILL electricity 1000101', 'PAY electricity 1000101', 'ACCOUNTS', 'HELP'],
};

function phone(
  t: (key: string) => string,
  channel: 'telegram' | 'sms',
  examples: string[],
): SafeHtml {
  const id = channel === 'telegram' ? 'tg' : 'sms';
  return html`<section class="phone ${channel}" aria-labelledby="${id}-h" data-channel="${channel}">
    <h2 id="${id}-h">${t(`sandbox-${channel}-title`)}</h2>
    <p class="who">
      ${t('sandbox-you-are')} <bdi class="from" data-from dir="ltr">…</bdi>
      <button type="button" class="link" data-reset>${t('sandbox-new-person')}</button>
    </p>
    <div class="screen">
      <ol
        class="log"
        id="${id}-log"
        aria-live="polite"
        aria-label="${t(`sandbox-${channel}-log`)}"
        tabindex="0"
      ></ol>
    </div>
    <form class="compose" data-compose>
      <label for="${id}-input" class="visually-hidden">${t('sandbox-message')}</label>
      ${
        channel === 'sms'
          ? html`<textarea
              id="${id}-input"
              name="text"
              rows="2"
              dir="auto"
              required
              maxlength="480"
              aria-describedby="${id}-parts"
            ></textarea>`
          : html`<input
              id="${id}-input"
              name="text"
              dir="auto"
              autocomplete="off"
              required
              maxlength="480"
            />`
      }
      <button type="submit">${t('sandbox-send')}</button>
    </form>
    ${
      channel === 'sms'
        ? html`<p class="parts-now" id="${id}-parts">
            ${t('sandbox-parts')}: <output data-parts-now>0</output>
          </p>`
        : null
    }
    <p class="examples">
      ${examples.map(
        (e) => html`<button type="button" class="example" data-example="${e}">${e}</button>`,
      )}
    </p>
  </section>`;
}

export function sandboxPage(
  req: Request,
  res: Response,
  text: ConsoleText,
  assets: Assets,
): SafeHtml {
  const lang = pageLanguage(req, res);
  const t = (key: string) => text.t(lang, key);
  const other = otherLanguage(lang);
  const strings = {
    parts: t('sandbox-parts'),
    later: t('sandbox-later'),
    failed: t('sandbox-failed'),
    pressed: t('sandbox-pressed'),
  };
  return html`<!doctype html>
    <html lang="${lang}" dir="${lang === 'ar' ? 'rtl' : 'ltr'}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${t('sandbox-title')}</title>
        <link rel="stylesheet" href="${assets.url('sandbox.css')}" />
      </head>
      <body>
        <a class="skip" href="#main">${t('skip-to-content')}</a>
        <header class="top">
          <p class="brand">${t('sandbox-brand')}</p>
          <a href="/sandbox?lang=${other}" lang="${other}" hreflang="${other}"
            >${text.t(other, 'language-name')}</a
          >
        </header>
        <main id="main" tabindex="-1">
          <h1>${t('sandbox-title')}</h1>
          <p class="intro">${t('sandbox-intro')}</p>
          <div class="phones">
            ${phone(t, 'telegram', EXAMPLES[lang])} ${phone(t, 'sms', EXAMPLES[lang])}
          </div>
        </main>
        ${jsonScript('sandbox-strings', strings)}
        <script src="${assets.url('sms-parts.js')}" defer></script>
        <script src="${assets.url('sandbox.js')}" defer></script>
      </body>
    </html>`;
}

/** GET / (the page) and /assets/*, for mounting inside the sandbox router. */
export function sandboxPageRouter({ catalogue }: Pick<HttpDeps, 'catalogue'>): Router {
  const router = Router();
  const text = new ConsoleText(catalogue);
  const assets = sandboxAssets();
  router.use('/assets', assets.router());
  router.get('/', (req, res) => {
    sendHtml(req, res, sandboxPage(req, res, text, assets));
  });
  return router;
}
