/**
 * The staff console (issue 7), mounted at /admin before the JSON API: HTML pages rendered on the
 * server, forms that work without scripts, small scripts for the live parts (SMS parts counter,
 * recipient count, progress bar, charts). Pages redirect to the login without a session; every
 * form carries the session's CSRF token (403 otherwise). Paths it does not serve fall through to
 * the API router.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { GOVERNORATE_CODES, isGovernorateCode } from '../../core/domain.js';
import type { BroadcastRequest } from '../../core/broadcasts/broadcast.service.js';
import { isEmptyAudience, MAX_BROADCAST_TEXT } from '../../core/broadcasts/broadcast.service.js';
import { localDate, localInstant } from '../../core/schedule/local-time.js';
import { ConsoleQueries, isReadableStore } from '../../db/console-queries.js';
import { sameSecret } from '../admin.routes.js';
import type { HttpDeps } from '../http.app.js';
import { formBody } from '../outside-text.js';
import { Assets, consoleAsset, packageFile } from './assets.js';
import { ConsoleText, pageLanguage } from './console-text.js';
import { html, sendHtml } from './html.js';
import { page, type PageContext } from './layout.js';
import { clientAddress, type LoginLockout } from './lockout.js';
import {
  broadcastsPage,
  EMPTY_FORM,
  type ComposeForm,
  type PastBroadcast,
} from './pages/broadcasts.page.js';
import { coveragePage } from './pages/coverage.page.js';
import { heldPage } from './pages/held.page.js';
import { loginPage, type LoginProblem } from './pages/login.page.js';
import { todayPage } from './pages/today.page.js';
import { SESSION_ENTITY, type ConsoleSession, type ConsoleSessions } from './session.js';

/** The console's static files (URL name → file). */
export function consoleAssets(): Assets {
  return new Assets('/admin/assets', {
    'console.css': consoleAsset('console.css'),
    'today.js': consoleAsset('today.js'),
    'broadcasts.js': consoleAsset('broadcasts.js'),
    'sms-parts.js': consoleAsset('sms-parts.js'),
    'chartist.js': packageFile('chartist/dist/index.umd.js'),
    'chartist.css': packageFile('chartist/dist/index.css'),
  });
}

const form = formBody({ limit: '32kb', parameterLimit: 200 });

/** A form field that may be absent, single or repeated, as a list of strings. */
const list = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));

const composeSchema = z.object({
  textAr: z.string().max(5000).default(''),
  textEn: z.string().max(5000).default(''),
  audience: z.enum(['all', 'filter']).default('filter'),
  governorates: list,
  billers: list,
  languages: list,
  channels: list,
  urgent: z.string().optional(),
  action: z.enum(['preview', 'send']).default('preview'),
});

const resolveSchema = z.object({
  status: z.enum(['succeeded', 'failed']),
  note: z.string().trim().min(1).max(1000),
});

/** Where to go after logging in: a console path only (never another site). */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/admin(\/[\w\-/]*)?(\?[\w=&%-]*)?$/.test(value)
    ? value
    : '/admin';
}

export function consoleRouter(
  deps: HttpDeps,
  sessions: ConsoleSessions,
  lockout: LoginLockout,
): Router {
  const { config, store, catalogue, broadcasts, payments, metrics, wake } = deps;
  const router = Router();
  const text = new ConsoleText(catalogue);
  const assets = consoleAssets();
  const billerIds = catalogue.billers.map((b) => b.id);
  const queries = isReadableStore(store) ? new ConsoleQueries(store) : null;
  if (!queries) throw new Error('the staff console needs a PrismaStore (read)');

  const context = (req: Request, res: Response, session: ConsoleSession | null): PageContext => ({
    lang: pageLanguage(req, res),
    text,
    assets,
    csrf: session?.csrf ?? null,
    path: req.baseUrl + (req.path === '/' ? '' : req.path),
    sandbox: deps.sandbox,
    timezone: config.timezone,
  });
  const sessionOf = (res: Response): ConsoleSession => res.locals.session as ConsoleSession;

  /** Pages: the login page without a valid session. */
  const requireSession = async (req: Request, res: Response, next: NextFunction) => {
    const session = await sessions.fromRequest(req);
    if (!session) {
      const next = req.method === 'GET' ? req.originalUrl : '/admin';
      res.redirect(303, `/admin/login?next=${encodeURIComponent(next)}`);
      return;
    }
    res.locals.session = session;
    next();
  };

  /** Forms: the session's CSRF token, or 403 and nothing done. */
  const requireCsrf = (req: Request, res: Response, next: NextFunction) => {
    const session = sessionOf(res);
    const given = (req.body as Record<string, unknown> | undefined)?._csrf;
    if (!sessions.csrfValid(session, given)) {
      const ctx = context(req, res, session);
      const t = (key: string) => text.t(ctx.lang, key);
      sendHtml(
        req,
        res,
        page(ctx, {
          title: t('forbidden-title'),
          body: html`<p class="notice error" role="alert">${t('forbidden-csrf')}</p>
            <p><a href="${req.baseUrl + req.path}">${t('forbidden-back')}</a></p>`,
        }),
        403,
      );
      return;
    }
    next();
  };

  router.use('/assets', assets.router());

  // Login and logout.
  const showLogin = (
    req: Request,
    res: Response,
    status: number,
    problem?: LoginProblem,
    retryMinutes?: number,
  ) => {
    const ctx = context(req, res, null);
    const body = req.body as Record<string, unknown> | undefined;
    sendHtml(
      req,
      res,
      loginPage(ctx, {
        formToken: sessions.loginToken(req, res),
        next: safeNext(body?.next ?? req.query.next),
        ...(problem ? { problem } : {}),
        ...(retryMinutes ? { retryMinutes } : {}),
      }),
      status,
    );
  };

  router.get('/login', async (req, res) => {
    if (await sessions.fromRequest(req)) {
      res.redirect(303, safeNext(req.query.next));
      return;
    }
    showLogin(req, res, 200, req.query.ended === '1' ? 'ended' : undefined);
  });

  router.post('/login', form, async (req, res) => {
    const address = clientAddress(req);
    const attempt = await lockout.attempt(address, 'staff:console');
    const locked = (wait: number) => {
      res.setHeader('Retry-After', String(wait));
      showLogin(req, res, 429, 'locked', Math.ceil(wait / 60));
    };
    if (attempt.retryAfter !== null) {
      locked(attempt.retryAfter);
      return;
    }
    const body = req.body as Record<string, unknown>;
    if (!sessions.loginTokenValid(req, body._csrf)) {
      showLogin(req, res, 403, 'csrf');
      return;
    }
    const given = typeof body.token === 'string' ? body.token.trim() : '';
    if (!given || !sameSecret(given, config.adminToken ?? '')) {
      const wait = await attempt.failed();
      req.log.warn({ address }, 'console login failed');
      if (wait !== null) locked(wait);
      else showLogin(req, res, 401, 'wrong');
      return;
    }
    await attempt.succeeded();
    const { session, value } = sessions.issue();
    await store.audit({
      actor: 'staff:console',
      entity: SESSION_ENTITY,
      entityId: session.id,
      action: 'login',
      detail: { address, expiresAt: session.expiresAt.toISOString() },
    });
    sessions.setCookie(res, value);
    sessions.clearLoginCookie(res);
    res.redirect(303, safeNext(body.next));
  });

  router.post('/logout', form, requireSession, requireCsrf, async (req, res) => {
    await store.audit({
      actor: 'staff:console',
      entity: SESSION_ENTITY,
      entityId: sessionOf(res).id,
      action: 'logout',
    });
    sessions.clearCookie(res);
    res.redirect(303, '/admin/login?ended=1');
  });

  // Today at a glance.
  router.get('/', requireSession, async (req, res) => {
    const ctx = context(req, res, sessionOf(res));
    const now = new Date();
    const since = localInstant(localDate(now, config.timezone), 0, config.timezone);
    const report = await queries.today(since);
    sendHtml(req, res, todayPage(ctx, report, billerIds));
  });

  // Broadcasts.
  const pastBroadcasts = async (): Promise<PastBroadcast[]> => {
    const list = await broadcasts.list(20);
    return Promise.all(
      list.map(async (record) => ({ record, progress: await broadcasts.progress(record.id) })),
    );
  };
  const showBroadcasts = async (
    req: Request,
    res: Response,
    options: {
      form?: ComposeForm;
      problem?: string | null;
      preview?: Awaited<ReturnType<typeof broadcasts.preview>> | null;
      status?: number;
    } = {},
  ) => {
    const ctx = context(req, res, sessionOf(res));
    const watchId = typeof req.query.watch === 'string' ? req.query.watch : null;
    const watch = watchId ? await broadcasts.progress(watchId) : null;
    const notice =
      req.query.cancelled === '1' ? text.t(ctx.lang, 'notice-broadcast-cancelled') : null;
    sendHtml(
      req,
      res,
      broadcastsPage(ctx, {
        form: options.form ?? EMPTY_FORM,
        billerIds,
        past: await pastBroadcasts(),
        watch,
        preview: options.preview ?? null,
        problem: options.problem ?? null,
        notice,
      }),
      options.status ?? 200,
    );
  };

  router.get('/console/broadcasts', requireSession, async (req, res) => {
    await showBroadcasts(req, res);
  });

  router.post('/console/broadcasts', form, requireSession, requireCsrf, async (req, res) => {
    const lang = pageLanguage(req, res);
    const parsed = composeSchema.safeParse(req.body);
    if (!parsed.success) {
      await showBroadcasts(req, res, {
        problem: text.t(lang, 'problem-bad-form'),
        status: 400,
      });
      return;
    }
    const f = parsed.data;
    const kept: ComposeForm = {
      textAr: f.textAr,
      textEn: f.textEn,
      audience: f.audience,
      governorates: f.governorates.filter(isGovernorateCode),
      billers: f.billers.filter((b) => billerIds.includes(b)),
      languages: f.languages.filter((l) => l === 'ar' || l === 'en'),
      channels: f.channels.filter((c) => c === 'sms' || c === 'telegram'),
      urgent: f.urgent !== undefined,
    };
    const problem = (key: string) =>
      showBroadcasts(req, res, { form: kept, problem: text.t(lang, key), status: 400 });
    const textAr = kept.textAr.trim();
    const textEn = kept.textEn.trim();
    if (!textAr) return problem('problem-text-empty');
    if (textAr.length > MAX_BROADCAST_TEXT || textEn.length > MAX_BROADCAST_TEXT)
      return problem('problem-text-long');
    if (kept.channels.length === 0) return problem('problem-channels-empty');
    const audience =
      kept.audience === 'all'
        ? { all: true as const }
        : {
            ...(kept.governorates.length ? { governorates: kept.governorates } : {}),
            ...(kept.billers.length ? { billers: kept.billers } : {}),
            ...(kept.languages.length ? { languages: kept.languages as Array<'ar' | 'en'> } : {}),
          };
    if (isEmptyAudience(audience)) return problem('problem-audience-empty');
    const request: Omit<BroadcastRequest, 'createdBy'> = {
      text: { ar: textAr, en: textEn || null },
      audience,
      channels: kept.channels as Array<'sms' | 'telegram'>,
      urgent: kept.urgent,
    };
    if (f.action === 'preview') {
      await showBroadcasts(req, res, { form: kept, preview: await broadcasts.preview(request) });
      return;
    }
    const created = await broadcasts.create({ ...request, createdBy: 'staff:console' });
    metrics.broadcastsTotal.inc({ outcome: 'created' });
    req.log.info({ broadcastId: created.id, recipients: created.recipients }, 'console broadcast');
    res.redirect(303, `/admin/console/broadcasts?watch=${encodeURIComponent(created.id)}#progress`);
  });

  router.post(
    '/console/broadcasts/:id/cancel',
    form,
    requireSession,
    requireCsrf,
    async (req, res) => {
      const id = String(req.params.id);
      const outcome = await broadcasts.cancel(id);
      if (outcome === 'cancelled') metrics.broadcastsTotal.inc({ outcome: 'cancelled' });
      res.redirect(
        303,
        `/admin/console/broadcasts?watch=${encodeURIComponent(id)}${outcome === 'cancelled' ? '&cancelled=1' : ''}#progress`,
      );
    },
  );

  // Coverage.
  router.get('/console/coverage', requireSession, async (req, res) => {
    const ctx = context(req, res, sessionOf(res));
    const notice = req.query.saved === '1' ? text.t(ctx.lang, 'notice-coverage-saved') : null;
    sendHtml(req, res, coveragePage(ctx, { billerIds, rows: await store.listCoverage(), notice }));
  });

  router.post('/console/coverage', form, requireSession, requireCsrf, async (req, res) => {
    const cell = (req.body as Record<string, unknown>).cell;
    const m = typeof cell === 'string' ? /^([\w-]{1,64})\|([A-Z]{3})\|([01])$/.exec(cell) : null;
    if (!m || !billerIds.includes(m[1]!) || !GOVERNORATE_CODES.includes(m[2] as never)) {
      res.status(400).json({ error: 'bad_request', reason: 'unknown biller or governorate' });
      return;
    }
    const [, billerId, governorate, flag] = m as unknown as [string, string, string, string];
    const available = flag === '1';
    const before = await store.getCoverage(billerId, governorate);
    if (before?.available !== available) {
      await store.setCoverage(billerId, governorate, available, 'staff:console');
      await store.audit({
        actor: 'staff:console',
        entity: 'coverage',
        entityId: `${billerId}:${governorate}`,
        action: 'set',
        fromState: before ? String(before.available) : null,
        toState: String(available),
      });
    }
    res.redirect(303, `/admin/console/coverage?saved=1#cell-${billerId}-${governorate}`);
  });

  // Payments held for staff.
  const showHeld = async (
    req: Request,
    res: Response,
    options: { problem?: string | null; status?: number } = {},
  ) => {
    const ctx = context(req, res, sessionOf(res));
    const held = await store.listPayments({ status: 'held' });
    const withAudit = await Promise.all(
      held.map(async (payment) => ({
        payment,
        audit: await store.auditTrail('payment', payment.id),
      })),
    );
    const done = typeof req.query.resolved === 'string' ? req.query.resolved : null;
    sendHtml(
      req,
      res,
      heldPage(ctx, {
        held: withAudit,
        notice: done ? text.t(ctx.lang, 'notice-held-resolved', { ref: done }) : null,
        problem: options.problem ?? null,
      }),
      options.status ?? 200,
    );
  };

  router.get('/console/held', requireSession, async (req, res) => {
    await showHeld(req, res);
  });

  router.post('/console/held/:id/resolve', form, requireSession, requireCsrf, async (req, res) => {
    const lang = pageLanguage(req, res);
    const parsed = resolveSchema.safeParse(req.body);
    if (!parsed.success) {
      await showHeld(req, res, { problem: text.t(lang, 'problem-resolve-form'), status: 400 });
      return;
    }
    const id = String(req.params.id);
    const resolved = await payments.resolveHeld(
      id,
      parsed.data.status,
      parsed.data.note,
      'staff:console',
    );
    if (!resolved) {
      await showHeld(req, res, {
        problem: text.t(lang, 'problem-not-held', { ref: id }),
        status: 409,
      });
      return;
    }
    wake();
    res.redirect(303, `/admin/console/held?resolved=${encodeURIComponent(id)}`);
  });

  return router;
}
