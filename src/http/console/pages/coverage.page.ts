import { GOVERNORATES } from '../../../core/domain.js';
import type { CoverageRecord } from '../../../core/ports/store.port.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, formatTime, page, type PageContext } from '../layout.js';

/** The value a cell's button posts: the state it sets (posting twice changes nothing more). */
export function cellValue(billerId: string, governorate: string, available: boolean): string {
  return `${billerId}|${governorate}|${available ? 1 : 0}`;
}

export function coveragePage(
  ctx: PageContext,
  options: { billerIds: string[]; rows: CoverageRecord[]; notice?: string | null },
): SafeHtml {
  const t = (key: string, args?: Record<string, string>) => ctx.text.t(ctx.lang, key, args);
  const cells = new Map(options.rows.map((r) => [`${r.billerId}|${r.governorate}`, r]));
  const changes = options.rows
    .filter((r) => r.updatedBy !== 'catalogue')
    .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())
    .slice(0, 10);

  const grid = html`<form method="post" action="/admin/console/coverage" id="coverage-form">
    ${csrfField(ctx)}
    <div class="table-wrap" tabindex="0" role="region" aria-labelledby="grid-caption">
      <table id="coverage" class="grid">
        <caption id="grid-caption">
          ${t('coverage-caption')}
        </caption>
        <thead>
          <tr>
            <th scope="col">${t('col-governorate')}</th>
            ${options.billerIds.map((id) => html`<th scope="col">${ctx.text.biller(id, ctx.lang)}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${GOVERNORATES.map(
            (g) =>
              html`<tr>
                <th scope="row">${g[ctx.lang]}</th>
                ${options.billerIds.map((id) => {
                  const cell = cells.get(`${id}|${g.code}`);
                  const on = cell?.available ?? false;
                  const label = t(on ? 'coverage-cell-on' : 'coverage-cell-off', {
                    biller: ctx.text.biller(id, ctx.lang),
                    governorate: g[ctx.lang],
                  });
                  return html`<td>
                    <button
                      type="submit"
                      name="cell"
                      value="${cellValue(id, g.code, !on)}"
                      id="cell-${id}-${g.code}"
                      class="cell ${on ? 'on' : 'off'}"
                      aria-pressed="${on ? 'true' : 'false'}"
                      aria-label="${label}"
                      title="${cell ? `${cell.updatedBy} · ${formatTime(ctx, cell.updatedAt)}` : ''}"
                    >
                      <span aria-hidden="true">${on ? '✓' : '✗'}</span>
                      <span class="cell-text" aria-hidden="true"
                        >${t(on ? 'coverage-on' : 'coverage-off')}</span
                      >
                    </button>
                  </td>`;
                })}
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </form>`;

  const recent = html`<section aria-labelledby="changes-h">
    <h2 id="changes-h">${t('coverage-changes')}</h2>
    ${
      changes.length === 0
        ? html`<p class="empty">${t('coverage-no-changes')}</p>`
        : html`<ul class="plain">
            ${changes.map(
              (c) =>
                html`<li>
                  ${formatTime(ctx, c.updatedAt)} — ${ctx.text.biller(c.billerId, ctx.lang)} /
                  ${ctx.text.governorate(c.governorate, ctx.lang)}:
                  ${t(c.available ? 'coverage-on' : 'coverage-off')} (<span dir="ltr"
                    >${c.updatedBy}</span
                  >)
                </li>`,
            )}
          </ul>`
    }
  </section>`;

  return page(ctx, {
    title: t('coverage-title'),
    body: html`${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : null}
      <p class="hint">${t('coverage-hint')}</p>
      ${grid} ${recent}`,
  });
}
