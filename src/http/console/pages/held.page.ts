import { formatMoney } from '../../../core/money.js';
import type { AuditRecord, PaymentRecord } from '../../../core/ports/store.port.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, formatTime, page, type PageContext } from '../layout.js';

export interface HeldPayment {
  payment: PaymentRecord;
  audit: AuditRecord[];
}

function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  return typeof detail === 'string' ? detail : JSON.stringify(detail);
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
          <dd dir="ltr">${p.providerRef ?? '—'}</dd>
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
                <time datetime="${a.at.toISOString()}">${formatTime(ctx, a.at)}</time>
                <span dir="ltr">${a.actor}</span> · <span dir="ltr">${a.action}</span>
                ${a.fromState || a.toState ? html`· <span dir="ltr">${a.fromState ?? '∅'} → ${a.toState ?? '∅'}</span>` : null}
                ${a.detail !== null && a.detail !== undefined ? html`<code dir="ltr">${detailText(a.detail)}</code>` : null}
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
