import { html, type SafeHtml } from '../html.js';
import { page, type PageContext } from '../layout.js';

export type LoginProblem = 'wrong' | 'locked' | 'csrf' | 'ended';

export function loginPage(
  ctx: PageContext,
  options: { formToken: string; next: string; problem?: LoginProblem; retryMinutes?: number },
): SafeHtml {
  const t = (key: string, args?: Record<string, string | number>) =>
    ctx.text.t(ctx.lang, key, args);
  const problem = options.problem
    ? html`<p class="notice error" role="alert" id="login-problem">
        ${
          options.problem === 'locked'
            ? t('login-locked', { minutes: options.retryMinutes ?? 15 })
            : t(`login-${options.problem}`)
        }
      </p>`
    : null;
  return page(ctx, {
    title: t('login-title'),
    body: html`${problem}
      <form method="post" action="/admin/login" class="card narrow">
        <input type="hidden" name="_csrf" value="${options.formToken}" />
        <input type="hidden" name="next" value="${options.next}" />
        <p>
          <label for="token">${t('login-token')}</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            required
            autofocus
            dir="ltr"
            ${problem ? html`aria-describedby="login-problem"` : null}
          />
        </p>
        <p class="hint">${t('login-hint')}</p>
        <button type="submit" class="primary">${t('login-submit')}</button>
      </form>`,
  });
}
