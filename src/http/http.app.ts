/**
 * The HTTP front: payment webhooks, the sandbox channel, the staff API, health and metrics
 * (docs/design.md §3). Handlers parse every body with a schema before the core sees it.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import type { AppConfig } from '../config/env.js';
import type { ConversationService } from '../core/conversation/conversation.service.js';
import type { Translator } from '../core/i18n/translator.js';
import type { PaymentService } from '../core/payments/payment.service.js';
import type { Store } from '../core/ports/store.port.js';
import { isSqlStore, SqlLoginThrottle } from '../db/login-throttle.js';
import type { BroadcastService } from '../core/broadcasts/broadcast.service.js';
import type { Catalogue } from '../core/catalogue.js';
import type { Clock } from '../core/ports/clock.port.js';
import { redactUrl, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { adminRouter, sameSecret } from './admin.routes.js';
import { bearerToken } from './bearer.js';
import { consoleRouter } from './console/console.routes.js';
import { LoginLockout } from './console/lockout.js';
import { consoleSessions } from './console/session.js';
import { refuseControlCharactersInPath, storableQuery } from './outside-text.js';
import { paymentWebhookRouter } from './payment-webhook.routes.js';
import { sandboxRouter } from './sandbox.routes.js';
import { smsWebhookRouter, type SmsWebhookDeps } from './sms.routes.js';
import { telegramWebhookRouter, type TelegramWebhookDeps } from './telegram-webhook.routes.js';

export interface HttpDeps {
  config: AppConfig;
  /** Whether /sandbox is served (decided at start: see decideSandbox). */
  sandbox: boolean;
  logger: Logger;
  metrics: Metrics;
  store: Store;
  conversation: ConversationService;
  payments: PaymentService;
  broadcasts: BroadcastService;
  catalogue: Catalogue;
  translator: Translator;
  webhookSecrets: ReadonlyMap<string, string>;
  /** The app's clock (signature windows are checked against the same time the core uses). */
  clock: Clock;
  /** Tells the dispatcher that new outbox rows are waiting. */
  wake: () => void;
  /** Telegram in webhook mode; null otherwise (the route then answers 404). */
  telegramWebhook?: TelegramWebhookDeps | null;
  /** SMS webhooks of the configured gateways; null while SMS is off (the routes then 404). */
  smsWebhooks?: SmsWebhookDeps | null;
}

export function createHttpApp(deps: HttpDeps): express.Express {
  const { config, logger, metrics, store } = deps;
  const app = express();
  app.disable('x-powered-by');
  if (config.publicUrl.startsWith('https:')) {
    // Served over https: browsers are told to use nothing else, for a year, on subdomains too.
    app.use((_req, res, next) => {
      res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
      next();
    });
  }
  // Which proxy's X-Forwarded-For names the client (the login lockout counts per client).
  app.set('trust proxy', config.http.trustProxy);
  app.set('query parser', storableQuery);

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // A 503 asks the caller to come back (a payment event that lost a race, readiness while
      // the database is away): expected under load, so not an error an operator must act on.
      customLogLevel: (_req, res, err) => {
        if (res.statusCode === 503 && res.getHeader('Retry-After') !== undefined) return 'warn';
        return err || res.statusCode >= 500 ? 'error' : 'info';
      },
      serializers: {
        // The query string may carry a phone number (GET /sandbox/messages?from=…).
        req: (req: { url?: unknown }) => {
          if (typeof req.url === 'string') req.url = redactUrl(req.url);
          return req;
        },
      },
    }),
  );
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routeLabel(req);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequestsTotal.inc({ route, method: req.method, status: String(res.statusCode) });
      metrics.httpRequestDurationSeconds.observe({ route, method: req.method }, seconds);
    });
    next();
  });

  app.use(refuseControlCharactersInPath);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
  app.get('/metrics', async (req, res) => {
    const token = config.http.metricsToken;
    const given = bearerToken(req.get('Authorization'));
    if (token && !(given && sameSecret(given, token))) {
      res.status(401).setHeader('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
      return;
    }
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  app.use('/payments/webhook', paymentWebhookRouter(deps));
  if (deps.telegramWebhook) app.use('/telegram', telegramWebhookRouter(deps.telegramWebhook));
  if (deps.smsWebhooks) app.use('/sms', smsWebhookRouter(deps.smsWebhooks));
  if (deps.sandbox) app.use('/sandbox', sandboxRouter(deps));
  // The staff console's pages (issue 7) first; the JSON API serves the rest of /admin.
  const sessions = consoleSessions(deps);
  const lockout = loginLockout(store);
  if (sessions) app.use('/admin', consoleRouter(deps, sessions, lockout));
  app.use('/admin', adminRouter(deps, lockout));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = httpStatusOf(error);
    if (status >= 500) req.log.error({ err: error }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json({
      error: status === 413 ? 'too_large' : status === 400 ? 'bad_request' : 'internal_error',
    });
  });
  return app;
}

/** Failed staff logins are counted in the database (every instance counts the same ones). */
function loginLockout(store: Store): LoginLockout {
  if (!isSqlStore(store)) throw new Error('the staff login lockout needs a PrismaStore');
  return new LoginLockout(new SqlLoginThrottle(store), store);
}

/** Express and body-parser errors carry a status; anything else is ours (500). */
function httpStatusOf(error: unknown): number {
  if (typeof error === 'object' && error !== null) {
    const status =
      (error as { status?: unknown; statusCode?: unknown }).status ??
      (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 600) return status;
  }
  return 500;
}

function routeLabel(req: Request): string {
  const route = (req.route as { path?: string } | undefined)?.path;
  return route ? `${req.baseUrl}${route}` : req.baseUrl || 'unmatched';
}
