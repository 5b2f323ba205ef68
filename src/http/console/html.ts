/**
 * Server-rendered HTML without a framework: a tagged template that escapes every value unless it
 * is already {@link SafeHtml}, and a sender that compresses pages for slow connections.
 */
import type { Request, Response } from 'express';
import { gzipSync } from 'node:zlib';

/** Markup that is already safe to insert (built by {@link html} or {@link raw}). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Marks trusted markup as safe (never pass it anything a person typed). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function part(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(part).join('');
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  // Objects have no business in markup; JSON data goes through jsonScript().
  throw new TypeError(`html: cannot insert a ${typeof value}`);
}

/**
 * `html\`<p>${text}</p>\`` escapes `text`; arrays are joined; null, undefined and false
 * insert nothing. Attribute values must be quoted in the template.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += part(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/**
 * Data for a page's script as `<script type="application/json">` (not executed, so the page's
 * CSP allows it). `<` is escaped so that no text can close the element.
 */
export function jsonScript(id: string, data: unknown): SafeHtml {
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return html`<script type="application/json" id="${id}">
    ${raw(json)}
  </script>`;
}

/** Headers every console and sandbox page carries. */
export function pageHeaders(res: Response): void {
  res.setHeader(
    'Content-Security-Policy',
    [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      // Chartist sets style attributes on the SVG it draws (no style elements, no scripts).
      "style-src-attr 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "object-src 'none'",
    ].join('; '),
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
}

/** Sends a page, gzip-compressed when the client accepts it and it is worth it. */
export function sendHtml(req: Request, res: Response, page: SafeHtml, status = 200): void {
  pageHeaders(res);
  res.status(status).setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Vary', 'Accept-Encoding');
  const body = Buffer.from(page.value, 'utf8');
  if (body.length > 1024 && acceptsGzip(req)) {
    res.setHeader('Content-Encoding', 'gzip');
    res.end(gzipSync(body));
    return;
  }
  res.end(body);
}

export function acceptsGzip(req: Request): boolean {
  return /\bgzip\b/.test(req.get('Accept-Encoding') ?? '');
}
