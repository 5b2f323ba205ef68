/** The page shell shared by the console's pages: language, navigation, logout, assets. */
import type { Language } from '../../core/domain.js';
import type { Assets } from './assets.js';
import { otherLanguage, type ConsoleText } from './console-text.js';
import { html, type SafeHtml } from './html.js';

export interface PageContext {
  lang: Language;
  text: ConsoleText;
  assets: Assets;
  /** The session's CSRF token; null on the login page. */
  csrf: string | null;
  /** The request path, for the current navigation item and the language switch. */
  path: string;
  /** Whether the sandbox page exists (a link to it in the navigation). */
  sandbox: boolean;
  /** TASDEED_TIMEZONE: times are shown in it. */
  timezone: string;
}

/** A date and time in the page language and the service's zone, with ASCII digits. */
export function formatTime(ctx: PageContext, at: Date): string {
  return new Intl.DateTimeFormat(ctx.lang === 'ar' ? 'ar-SY-u-nu-latn' : 'en-GB', {
    dateStyle: 'short',
    timeStyle: 'short',
    timeZone: ctx.timezone,
  }).format(at);
}

/** A count with ASCII digits (grouped in English, as money is). */
export function formatCount(ctx: PageContext, n: number): string {
  return ctx.lang === 'en' ? n.toLocaleString('en-US') : String(n);
}

const NAV: Array<{ href: string; key: string }> = [
  { href: '/admin', key: 'nav-today' },
  { href: '/admin/console/broadcasts', key: 'nav-broadcasts' },
  { href: '/admin/console/coverage', key: 'nav-coverage' },
  { href: '/admin/console/held', key: 'nav-held' },
];

/**
 * The column headers of a table that becomes one card per row on a narrow screen (`.stack`):
 * CSS display changes can strip a table's meaning from screen readers, explicit roles keep it.
 * Its cells carry `role="cell"` and `data-label` (the column's name, shown beside the value).
 */
export function stackHead(labels: Array<string | SafeHtml>): SafeHtml {
  return html`<thead role="rowgroup">
    <tr role="row">
      ${labels.map((l) => html`<th scope="col" role="columnheader">${l}</th>`)}
    </tr>
  </thead>`;
}

/** The hidden field every console form carries. */
export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}" />`;
}

export function page(
  ctx: PageContext,
  options: { title: string; body: SafeHtml; scripts?: string[]; styles?: string[] },
): SafeHtml {
  const { lang, text } = ctx;
  const t = (key: string) => text.t(lang, key);
  const other = otherLanguage(lang);
  const nav =
    ctx.csrf === null
      ? null
      : html`<nav aria-label="${t('nav-label')}">
          <ul>
            ${NAV.map(
              (n) =>
                html`<li>
                  <a href="${n.href}" ${ctx.path === n.href ? html`aria-current="page"` : null}
                    >${t(n.key)}</a
                  >
                </li>`,
            )}
            ${ctx.sandbox ? html`<li><a href="/sandbox">${t('nav-sandbox')}</a></li>` : null}
          </ul>
        </nav>`;
  const logout =
    ctx.csrf === null
      ? null
      : html`<form method="post" action="/admin/logout" class="inline">
          ${csrfField(ctx)}<button type="submit" class="link">${t('logout')}</button>
        </form>`;
  return html`<!doctype html>
    <html lang="${lang}" dir="${lang === 'ar' ? 'rtl' : 'ltr'}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · ${t('console-name')}</title>
        <link rel="stylesheet" href="${ctx.assets.url('console.css')}" />
        ${(options.styles ?? []).map((s) => html`<link rel="stylesheet" href="${ctx.assets.url(s)}" />`)}
      </head>
      <body>
        <a class="skip" href="#main">${t('skip-to-content')}</a>
        <header class="top">
          <p class="brand">${t('console-name')}</p>
          ${nav}
          <div class="tools">
            <a href="${ctx.path}?lang=${other}" lang="${other}" hreflang="${other}"
              >${text.t(other, 'language-name')}</a
            >
            ${logout}
          </div>
        </header>
        <main id="main" tabindex="-1">
          <h1>${options.title}</h1>
          ${options.body}
        </main>
        ${(options.scripts ?? []).map((s) => html`<script src="${ctx.assets.url(s)}" defer></script>`)}
      </body>
    </html>`;
}
