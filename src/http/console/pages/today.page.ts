import { qirsh } from '../../../core/money.js';
import { formatMoney } from '../../../core/money.js';
import type { PaymentFigures, TodayReport } from '../../../db/console-queries.js';
import { html, jsonScript, type SafeHtml } from '../html.js';
import { formatCount, formatTime, page, stackHead, type PageContext } from '../layout.js';

/** New pounds as a plain number, for chart bars (labels show the formatted amount). */
function pounds(minor: number): number {
  return Math.round(minor) / 100;
}

function paymentRows(
  ctx: PageContext,
  rows: Array<{ name: string; figures: PaymentFigures }>,
): SafeHtml {
  const t = (key: string) => ctx.text.t(ctx.lang, key);
  const n = (v: number) => formatCount(ctx, v);
  return html`${rows.map(
    (r) =>
      html`<tr role="row">
        <th scope="row" role="rowheader">${r.name}</th>
        <td role="cell" data-label="${t('col-payments')}">${n(r.figures.count)}</td>
        <td role="cell" data-label="${t('col-succeeded')}">${n(r.figures.succeeded)}</td>
        <td role="cell" data-label="${t('col-amount')}" class="money">
          ${formatMoney(r.figures.succeededMinor, ctx.lang)}
        </td>
        <td role="cell" data-label="${t('col-open')}">${n(r.figures.open)}</td>
        <td role="cell" data-label="${t('col-held')}">${n(r.figures.held)}</td>
        <td role="cell" data-label="${t('col-failed')}">${n(r.figures.failed)}</td>
      </tr>`,
  )}`;
}

function paymentTable(
  ctx: PageContext,
  id: string,
  firstColumn: string,
  rows: Array<{ name: string; figures: PaymentFigures }>,
): SafeHtml {
  const t = (key: string) => ctx.text.t(ctx.lang, key);
  if (rows.length === 0) return html`<p class="empty">${t('today-no-payments')}</p>`;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="${id}-h">
    <table id="${id}" class="stack" role="table">
      ${stackHead([
        firstColumn,
        t('col-payments'),
        t('col-succeeded'),
        t('col-amount'),
        t('col-open'),
        t('col-held'),
        t('col-failed'),
      ])}
      <tbody role="rowgroup">
        ${paymentRows(ctx, rows)}
      </tbody>
    </table>
  </div>`;
}

export function todayPage(ctx: PageContext, report: TodayReport, billerIds: string[]): SafeHtml {
  const t = (key: string, args?: Record<string, string | number>) =>
    ctx.text.t(ctx.lang, key, args);
  const n = (v: number) => formatCount(ctx, v);
  // Every biller of the catalogue, with or without payments today.
  const billers = billerIds.map((id) => ({
    name: ctx.text.biller(id, ctx.lang),
    figures: report.byBiller.find((b) => b.billerId === id) ?? {
      count: 0,
      succeeded: 0,
      succeededMinor: qirsh(0),
      open: 0,
      held: 0,
      failed: 0,
    },
  }));
  for (const b of report.byBiller)
    if (!billerIds.includes(b.billerId))
      billers.push({ name: ctx.text.biller(b.billerId, ctx.lang), figures: b });
  const governorates = report.byGovernorate.map((g) => ({
    name: ctx.text.governorate(g.governorate, ctx.lang),
    figures: g,
  }));
  const channels = report.messages.map((m) => ({
    name: ctx.text.identityChannel(m.channel, ctx.lang),
    figures: m,
  }));

  const charts = {
    billers: {
      labels: billers.map((b) => b.name),
      series: [billers.map((b) => pounds(b.figures.succeededMinor))],
    },
    governorates: {
      labels: governorates.map((g) => g.name),
      series: [governorates.map((g) => g.figures.count)],
    },
    messages: {
      labels: channels.map((c) => c.name),
      series: [
        channels.map((c) => c.figures.sent),
        channels.map((c) => c.figures.delivered),
        channels.map((c) => c.figures.failed),
      ],
    },
  };

  const legend = html`<ul class="legend" aria-hidden="true">
    <li><span class="swatch s-a"></span>${t('col-sent')}</li>
    <li><span class="swatch s-b"></span>${t('col-delivered')}</li>
    <li><span class="swatch s-c"></span>${t('col-failed')}</li>
  </ul>`;

  const body = html`<p class="hint">${t('today-since', { time: formatTime(ctx, report.since) })}</p>
    <ul class="cards">
      <li class="card"><span class="big">${n(report.totals.count)}</span>${t('card-payments')}</li>
      <li class="card">
        <span class="big">${formatMoney(report.totals.succeededMinor, ctx.lang)}</span
        >${t('card-paid', { count: report.totals.succeeded })}
      </li>
      <li class="card"><span class="big">${n(report.pending.open)}</span>${t('card-pending')}</li>
      <li class="card">
        <a href="/admin/console/held"
          ><span class="big">${n(report.pending.held)}</span>${t('card-held')}</a
        >
      </li>
    </ul>

    <section aria-labelledby="billers-h">
      <h2 id="billers-h">${t('today-by-biller')}</h2>
      <figure class="chart" aria-hidden="true">
        <figcaption>${t('chart-billers')}</figcaption>
        <div id="chart-billers" dir="ltr"></div>
      </figure>
      ${paymentTable(ctx, 'billers', t('col-biller'), billers)}
    </section>

    <section aria-labelledby="governorates-h">
      <h2 id="governorates-h">${t('today-by-governorate')}</h2>
      ${
        governorates.length > 0
          ? html`<figure class="chart" aria-hidden="true">
              <figcaption>${t('chart-governorates')}</figcaption>
              <div id="chart-governorates" dir="ltr"></div>
            </figure>`
          : null
      }
      ${paymentTable(ctx, 'governorates', t('col-governorate'), governorates)}
    </section>

    <section aria-labelledby="pending-h">
      <h2 id="pending-h">${t('today-pending')}</h2>
      ${
        report.pending.oldest.length === 0
          ? html`<p class="empty">${t('today-no-pending')}</p>`
          : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="pending-h">
              <table id="pending" class="stack" role="table">
                ${stackHead([
                  t('col-ref'),
                  t('col-biller'),
                  t('col-account'),
                  t('col-amount'),
                  t('col-channel'),
                  t('col-status'),
                  t('col-started'),
                ])}
                <tbody role="rowgroup">
                  ${report.pending.oldest.map(
                    (p) =>
                      html`<tr role="row">
                        <th scope="row" role="rowheader"><span dir="ltr">${p.id}</span></th>
                        <td role="cell" data-label="${t('col-biller')}">
                          ${ctx.text.biller(p.billerId, ctx.lang)}
                        </td>
                        <td role="cell" data-label="${t('col-account')}">
                          <span dir="ltr">${p.account}</span>
                        </td>
                        <td role="cell" data-label="${t('col-amount')}" class="money">
                          ${formatMoney(p.amountMinor, ctx.lang)}
                        </td>
                        <td role="cell" data-label="${t('col-channel')}">
                          ${ctx.text.paymentChannel(p.channelId, ctx.lang)}
                        </td>
                        <td role="cell" data-label="${t('col-status')}">
                          ${t(`payment-status-${p.status}`)}
                        </td>
                        <td role="cell" data-label="${t('col-started')}">
                          ${formatTime(ctx, p.createdAt)}
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>

    <section aria-labelledby="messages-h">
      <h2 id="messages-h">${t('today-messages')}</h2>
      ${
        channels.length === 0
          ? html`<p class="empty">${t('today-no-messages')}</p>`
          : html`<figure class="chart" aria-hidden="true">
                <figcaption>${t('chart-messages')}</figcaption>
                <div id="chart-messages" class="grouped" dir="ltr"></div>
                ${legend}
              </figure>
              <div class="table-wrap" tabindex="0" role="region" aria-labelledby="messages-h">
                <table id="messages" class="stack" role="table">
                  ${stackHead([
                    t('col-channel'),
                    t('col-sent'),
                    t('col-delivered'),
                    t('col-failed'),
                    t('col-queued'),
                    t('col-skipped'),
                  ])}
                  <tbody role="rowgroup">
                    ${channels.map(
                      (c) =>
                        html`<tr role="row">
                          <th scope="row" role="rowheader">${c.name}</th>
                          <td role="cell" data-label="${t('col-sent')}">${n(c.figures.sent)}</td>
                          <td role="cell" data-label="${t('col-delivered')}">
                            ${n(c.figures.delivered)}
                          </td>
                          <td role="cell" data-label="${t('col-failed')}">
                            ${n(c.figures.failed)}
                          </td>
                          <td role="cell" data-label="${t('col-queued')}">
                            ${n(c.figures.queued)}
                          </td>
                          <td role="cell" data-label="${t('col-skipped')}">
                            ${n(c.figures.skipped)}
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
      }
    </section>
    ${jsonScript('chart-data', charts)}`;

  return page(ctx, {
    title: t('today-title'),
    body,
    styles: ['chartist.css'],
    scripts: ['chartist.js', 'today.js'],
  });
}
