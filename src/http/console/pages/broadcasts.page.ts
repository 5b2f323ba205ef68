import { GOVERNORATES } from '../../../core/domain.js';
import type {
  BroadcastPreview,
  BroadcastProgress,
} from '../../../core/broadcasts/broadcast.service.js';
import type { BroadcastAudience, BroadcastRecord } from '../../../core/ports/store.port.js';
import { html, jsonScript, type SafeHtml } from '../html.js';
import {
  csrfField,
  formatCount,
  formatTime,
  page,
  stackHead,
  type PageContext,
} from '../layout.js';

/** What the composer form holds (kept when the page is shown again with a problem). */
export interface ComposeForm {
  textAr: string;
  textEn: string;
  audience: 'all' | 'filter';
  governorates: string[];
  billers: string[];
  languages: string[];
  channels: string[];
  urgent: boolean;
}

export const EMPTY_FORM: ComposeForm = {
  textAr: '',
  textEn: '',
  audience: 'filter',
  governorates: [],
  billers: [],
  languages: [],
  channels: ['sms', 'telegram'],
  urgent: false,
};

export interface PastBroadcast {
  record: BroadcastRecord;
  progress: BroadcastProgress | null;
}

/** Share of recipients the outbox has finished with (sent, failed, skipped or cancelled). */
export function percentDone(progress: BroadcastProgress): number {
  const { counts, recipients, status } = progress;
  if (recipients === 0) return status === 'done' || status === 'cancelled' ? 100 : 0;
  const finished = counts.sent + counts.failed + counts.skipped + counts.cancelled;
  return Math.min(100, Math.floor((finished * 100) / recipients));
}

function checkbox(
  name: string,
  value: string,
  label: string,
  checked: boolean,
  attrs: SafeHtml | null = null,
): SafeHtml {
  return html`<label class="check"
    ><input
      type="checkbox"
      name="${name}"
      value="${value}"
      ${checked ? html`checked` : null}
      ${attrs}
    />
    ${label}</label
  >`;
}

function smsCounter(ctx: PageContext, forId: string): SafeHtml {
  const t = (key: string) => ctx.text.t(ctx.lang, key);
  return html`<p class="hint counter" id="${forId}-count" data-sms-counter="${forId}">
    ${t('compose-characters')}: <output data-units>0</output> · ${t('compose-parts')}:
    <output data-parts>0</output> · ${t('compose-encoding')}:
    <output data-encoding dir="ltr">—</output>
  </p>`;
}

export function audienceSummary(ctx: PageContext, audience: BroadcastAudience): string {
  const t = (key: string) => ctx.text.t(ctx.lang, key);
  if ('all' in audience) return t('audience-all');
  const parts: string[] = [];
  if (audience.governorates?.length)
    parts.push(audience.governorates.map((g) => ctx.text.governorate(g, ctx.lang)).join('، '));
  if (audience.billers?.length)
    parts.push(audience.billers.map((b) => ctx.text.biller(b, ctx.lang)).join('، '));
  if (audience.languages?.length)
    parts.push(audience.languages.map((l) => t(`language-${l}`)).join('، '));
  return parts.join(' · ');
}

function progressSection(ctx: PageContext, progress: BroadcastProgress): SafeHtml {
  const t = (key: string) => ctx.text.t(ctx.lang, key);
  const pct = percentDone(progress);
  const c = progress.counts;
  const n = (v: number) => formatCount(ctx, v);
  const running = progress.status === 'planning' || progress.status === 'sending';
  return html`<section
    id="progress"
    class="card"
    aria-labelledby="progress-h"
    data-broadcast="${progress.id}"
  >
    <h2 id="progress-h">${t('progress-title')}</h2>
    <p>
      <label for="progress-bar">${t('progress-done')}</label>
      <progress id="progress-bar" max="100" value="${pct}">${pct} %</progress>
      <output id="progress-pct">${pct} %</output>
    </p>
    <p>
      ${t('col-status')}:
      <output id="progress-status">${t(`broadcast-status-${progress.status}`)}</output>
    </p>
    <dl class="counts">
      <div>
        <dt>${t('col-recipients')}</dt>
        <dd data-count="recipients">${n(progress.recipients)}</dd>
      </div>
      <div>
        <dt>${t('col-sent')}</dt>
        <dd data-count="sent">${n(c.sent)}</dd>
      </div>
      <div>
        <dt>${t('col-delivered')}</dt>
        <dd data-count="delivered">${n(c.delivered)}</dd>
      </div>
      <div>
        <dt>${t('col-failed')}</dt>
        <dd data-count="failed">${n(c.failed)}</dd>
      </div>
      <div>
        <dt>${t('col-queued')}</dt>
        <dd data-count="queued">${n(c.queued)}</dd>
      </div>
      <div>
        <dt>${t('col-skipped')}</dt>
        <dd data-count="skipped">${n(c.skipped + c.cancelled)}</dd>
      </div>
    </dl>
    ${
      running
        ? html`<form
            method="post"
            action="/admin/console/broadcasts/${progress.id}/cancel"
            id="cancel-form"
          >
            ${csrfField(ctx)}
            <button type="submit" class="danger">${t('broadcast-cancel')}</button>
          </form>`
        : null
    }
  </section>`;
}

export function broadcastsPage(
  ctx: PageContext,
  options: {
    form: ComposeForm;
    billerIds: string[];
    past: PastBroadcast[];
    watch: BroadcastProgress | null;
    preview?: BroadcastPreview | null;
    problem?: string | null;
    notice?: string | null;
  },
): SafeHtml {
  const t = (key: string, args?: Record<string, string | number>) =>
    ctx.text.t(ctx.lang, key, args);
  const n = (v: number) => formatCount(ctx, v);
  const { form, preview } = options;
  const filterAttrs = html`data-audience-filter`;

  const composer = html`<section aria-labelledby="compose-h">
    <h2 id="compose-h">${t('compose-title')}</h2>
    ${options.problem ? html`<p class="notice error" role="alert">${options.problem}</p>` : null}
    <form method="post" action="/admin/console/broadcasts" id="compose" class="card">
      ${csrfField(ctx)}
      <p>
        <label for="text-ar">${t('compose-text-ar')}</label>
        <textarea
          id="text-ar"
          name="textAr"
          rows="4"
          dir="rtl"
          lang="ar"
          required
          maxlength="670"
          aria-describedby="text-ar-count"
        >
${form.textAr}</textarea>
      </p>
      ${smsCounter(ctx, 'text-ar')}
      <p>
        <label for="text-en">${t('compose-text-en')}</label>
        <textarea
          id="text-en"
          name="textEn"
          rows="3"
          dir="ltr"
          lang="en"
          maxlength="670"
          aria-describedby="text-en-count"
        >
${form.textEn}</textarea>
      </p>
      ${smsCounter(ctx, 'text-en')}

      <fieldset>
        <legend>${t('compose-audience')}</legend>
        <label class="check"
          ><input
            type="radio"
            name="audience"
            value="all"
            ${form.audience === 'all' ? html`checked` : null}
          />
          ${t('audience-all')}</label
        >
        <label class="check"
          ><input
            type="radio"
            name="audience"
            value="filter"
            ${form.audience === 'filter' ? html`checked` : null}
          />
          ${t('audience-filter')}</label
        >
        <p class="hint">${t('audience-filter-hint')}</p>
        <fieldset class="choices" id="governorates">
          <legend>${t('audience-governorates')}</legend>
          ${GOVERNORATES.map((g) =>
            checkbox(
              'governorates',
              g.code,
              g[ctx.lang],
              form.governorates.includes(g.code),
              filterAttrs,
            ),
          )}
        </fieldset>
        <fieldset class="choices" id="billers">
          <legend>${t('audience-billers')}</legend>
          ${options.billerIds.map((id) =>
            checkbox(
              'billers',
              id,
              ctx.text.biller(id, ctx.lang),
              form.billers.includes(id),
              filterAttrs,
            ),
          )}
        </fieldset>
        <fieldset class="choices" id="languages">
          <legend>${t('audience-languages')}</legend>
          ${(['ar', 'en'] as const).map((l) =>
            checkbox('languages', l, t(`language-${l}`), form.languages.includes(l), filterAttrs),
          )}
        </fieldset>
      </fieldset>

      <fieldset class="choices" id="channels">
        <legend>${t('compose-channels')}</legend>
        ${checkbox('channels', 'sms', t('channel-sms'), form.channels.includes('sms'))}
        ${checkbox('channels', 'telegram', t('channel-telegram'), form.channels.includes('telegram'))}
      </fieldset>

      <p>
        ${checkbox('urgent', '1', t('compose-urgent'), form.urgent, html`aria-describedby="urgent-hint"`)}
        <span class="hint" id="urgent-hint">${t('compose-urgent-hint')}</span>
      </p>

      <div id="preview" class="preview" aria-live="polite">
        <p
          id="preview-problem"
          class="error"
          ${preview === undefined || preview === null ? null : html`hidden`}
        ></p>
        <dl class="counts">
          <div>
            <dt>${t('col-recipients')}</dt>
            <dd>
              <output id="preview-recipients">${preview ? n(preview.recipients) : '—'}</output>
            </dd>
          </div>
          <div>
            <dt>${t('preview-parts-per')}</dt>
            <dd>
              <output id="preview-parts">${preview ? n(preview.smsPartsPerMessage) : '—'}</output>
            </dd>
          </div>
          <div>
            <dt>${t('preview-parts-total')}</dt>
            <dd><output id="preview-total">${preview ? n(preview.smsPartsTotal) : '—'}</output></dd>
          </div>
        </dl>
      </div>
      <p class="buttons">
        <button type="submit" name="action" value="preview">${t('compose-preview')}</button>
        <button type="submit" name="action" value="send" class="primary">
          ${t('compose-send')}
        </button>
      </p>
    </form>
  </section>`;

  const past = html`<section aria-labelledby="past-h">
    <h2 id="past-h">${t('past-title')}</h2>
    ${
      options.past.length === 0
        ? html`<p class="empty">${t('past-none')}</p>`
        : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="past-h">
            <table id="past" class="stack" role="table">
              ${stackHead([
                t('col-time'),
                t('col-text'),
                t('col-audience'),
                t('col-recipients'),
                t('col-status'),
                t('col-sent'),
                t('col-delivered'),
                t('col-failed'),
                t('preview-parts-total'),
                html`<span class="visually-hidden">${t('col-actions')}</span>`,
              ])}
              <tbody role="rowgroup">
                ${options.past.map(({ record: b, progress: p }) => {
                  const excerpt = b.text.ar.length > 80 ? `${b.text.ar.slice(0, 80)}…` : b.text.ar;
                  const status = p?.status ?? b.status;
                  // Rows still being sent are refreshed by broadcasts.js as the progress is polled.
                  const running = status === 'planning' || status === 'sending';
                  return html`<tr
                    role="row"
                    data-broadcast="${b.id}"
                    ${running ? html`data-running` : null}
                  >
                    <td role="cell" data-label="${t('col-time')}" class="wide">
                      ${formatTime(ctx, b.createdAt)}
                    </td>
                    <th scope="row" role="rowheader" dir="rtl" lang="ar" class="excerpt">
                      ${excerpt}${b.urgent ? html` <span class="tag">${t('tag-urgent')}</span>` : null}
                    </th>
                    <td role="cell" data-label="${t('col-audience')}" class="wide">
                      ${audienceSummary(ctx, b.audience)}
                    </td>
                    <td role="cell" data-label="${t('col-recipients')}" data-cell="recipients">
                      ${n(p?.recipients ?? b.recipients)}
                    </td>
                    <td role="cell" data-label="${t('col-status')}" class="status wide">
                      <span
                        ><span data-cell="status">${t(`broadcast-status-${status}`)}</span>
                        <span data-cell="percent">${p ? `(${percentDone(p)} %)` : null}</span></span
                      >
                    </td>
                    <td role="cell" data-label="${t('col-sent')}" data-cell="sent">
                      ${p ? n(p.counts.sent) : '—'}
                    </td>
                    <td role="cell" data-label="${t('col-delivered')}" data-cell="delivered">
                      ${p ? n(p.counts.delivered) : '—'}
                    </td>
                    <td role="cell" data-label="${t('col-failed')}" data-cell="failed">
                      ${p ? n(p.counts.failed) : '—'}
                    </td>
                    <td role="cell" data-label="${t('preview-parts-total')}">
                      ${n(b.smsPartsTotal)}
                    </td>
                    <td role="cell" class="actions">
                      <a href="/admin/console/broadcasts?watch=${b.id}#progress"
                        >${t('broadcast-watch')}</a
                      >
                    </td>
                  </tr>`;
                })}
              </tbody>
            </table>
          </div>`
    }
  </section>`;

  const strings = {
    status: Object.fromEntries(
      (['planning', 'sending', 'done', 'cancelled'] as const).map((s) => [
        s,
        t(`broadcast-status-${s}`),
      ]),
    ),
    audienceEmpty: t('problem-audience-empty'),
    channelsEmpty: t('problem-channels-empty'),
    previewFailed: t('problem-preview-failed'),
  };

  return page(ctx, {
    title: t('broadcasts-title'),
    body: html`${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : null}
    ${options.watch ? progressSection(ctx, options.watch) : null} ${composer} ${past}
    ${jsonScript('console-strings', strings)}`,
    scripts: ['sms-parts.js', 'broadcasts.js'],
  });
}
