import { formatMoney, qirsh } from '../../../core/money.js';
import type { AuditRecord, PaymentRecord } from '../../../core/ports/store.port.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, formatTime, page, type PageContext } from '../layout.js';

export interface HeldPayment {
  payment: PaymentRecord;
  audit: AuditRecord[];
}

/** A value of an audit entry's detail: amounts (`…Minor`) as money, the rest as recorded. */
function detailValue(ctx: PageContext, key: string, value: unknown): SafeHtml {
  if (/Minor$/.test(key) && typeof value === 'number' && Number.isSafeInteger(value))
    return html`${formatMoney(qirsh(value), ctx.lang)}`;
  return html`<span dir="ltr">${typeof value === 'string' ? value : JSON.stringify(value)}</span>`;
}

/** An audit entry's detail, readable: "amountMinor: 34400 ل.س · channelId: bank". */
function detailHtml(ctx: PageContext, detail: unknown): SafeHtml | null {
  if (detail === null || detail === undefined) return null;
  if (typeof detail !== 'object' || Array.isArray(detail))
    return html`<span class="detail">${detailValue(ctx, '', detail)}</span>`;
  const parts = Object.entries(detail as Record<string, unknown>).map(
    ([key, value], i) =>
      html`${i > 0 ? ' · ' : null}<span dir="ltr">${key}</span>: ${detailValue(ctx, key, value)}`,
  );
  return html`<span class="detail">${parts}</span>`;
}

/** A payment state in the page language (codes the locale files do not name stay as they are). */
function stateText(ctx: PageContext, state: string | null): string {
  return state === null ? '∅' : ctx.text.optional(ctx.lang, `payment-status-${state}`, state);
}

export function heldPage(
  ctx: PageContext,
  options: { held: HeldPayment[]; notice?: string | null; problem?: string | null },
): SafeHtml {
  const t = (key: string, args?: Record<string, string>) => ctx.text.t(ctx.lang, key, args);
  const items = options.held.map(({ payment: p, audit }) => {
    const id = `held-${p.id}`;
    return html`<article class="card" id="${id}" aria-labelledby="${id}-h">
      <h2 id="${id}-h">
        <span dir="ltr">${p.id}</span> — ${ctx.text.biller(p.billerId, ctx.lang)}
        <span dir="ltr">${p.account}</span>
      </h2>
      <dl class="facts">
        <div>
          <dt>${t('col-reason')}</dt>
          <dd>${t(`held-reason-${p.heldReason ?? 'unknown'}`)}</dd>
        </div>
        <div>
          <dt>${t('col-amount')}</dt>
          <dd>${formatMoney(p.amountMinor, ctx.lang)}</dd>
        </div>
        <div>
          <dt>${t('held-confirmed')}</dt>
          <dd>
            ${p.confirmedAmountMinor === null ? '—' : formatMoney(p.confirmedAmountMinor, ctx.lang)}
          </dd>
        </div>
        <div>
          <dt>${t('col-channel')}</dt>
          <dd>${ctx.text.paymentChannel(p.channelId, ctx.lang)}</dd>
        </div>
        <div>
          <dt>${t('held-provider-ref')}</dt>
          <dd><bdi dir="ltr">${p.providerRef ?? '—'}</bdi></dd>
        </div>
        <div>
          <dt>${t('col-started')}</dt>
          <dd>${formatTime(ctx, p.createdAt)}</dd>
        </div>
      </dl>
      <details>
        <summary>${t('held-audit', { count: String(audit.length) })}</summary>
        <ol class="audit">
          ${audit.map(
            (a) =>
              html`<li>
                <time datetime="${a.at.toISOString()}">${formatTime(ctx, a.at)}</time> ·
                ${ctx.text.optional(ctx.lang, `audit-action-${a.action}`, a.action)} ·
                <span dir="ltr" class="actor">${a.actor}</span>
                ${
                  a.fromState || a.toState
                    ? html`· ${stateText(ctx, a.fromState)} ${ctx.lang === 'ar' ? '←' : '→'}
                      ${stateText(ctx, a.toState)}`
                    : null
                }
                ${detailHtml(ctx, a.detail)}
              </li>`,
          )}
        </ol>
      </details>
      <form method="post" action="/admin/console/held/${p.id}/resolve" class="resolve">
        ${csrfField(ctx)}
        <fieldset>
          <legend>${t('held-decision')}</legend>
          <label class="check"
            ><input type="radio" name="status" value="succeeded" required />
            ${t('held-succeeded')}</label
          >
          <label class="check"
            ><input type="radio" name="status" value="failed" /> ${t('held-failed')}</label
          >
        </fieldset>
        <p>
          <label for="${id}-note">${t('held-note')}</label>
          <textarea id="${id}-note" name="note" rows="2" required maxlength="1000"></textarea>
        </p>
        <button type="submit" class="primary">${t('held-resolve')}</button>
      </form>
    </article>`;
  });
  return page(ctx, {
    title: t('held-title'),
    body: html`${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : null}
      ${options.problem ? html`<p class="notice error" role="alert">${options.problem}</p>` : null}
      <p class="hint">${t('held-hint')}</p>
      ${items.length === 0 ? html`<p class="empty">${t('held-none')}</p>` : items}`,
  });
}
