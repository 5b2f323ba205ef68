/**
 * The staff HTTP API (docs/design.md §3, §6): bearer `TASDEED_ADMIN_TOKEN`; every route answers 404
 * while no token is configured, 401 without the right token, and 429 with Retry-After once the
 * client has failed 5 times (wrong tokens and console logins counted together; see lockout.ts).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { isEmptyAudience, MAX_BROADCAST_TEXT } from '../core/broadcasts/broadcast.service.js';
import { GOVERNORATE_CODES, type Language } from '../core/domain.js';
import type { BroadcastAudience } from '../core/ports/store.port.js';
import type { HttpDeps } from './http.app.js';
import { bearerToken } from './bearer.js';
import { clientAddress, type LoginLockout } from './console/lockout.js';
import { consoleSessions } from './console/session.js';
import { jsonBody } from './outside-text.js';

const resolveSchema = z.object({
  status: z.enum(['succeeded', 'failed']),
  note: z.string().trim().min(1).max(1000),
});

const broadcastText = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_BROADCAST_TEXT, `is longer than ${MAX_BROADCAST_TEXT} characters`);

/** A list of known values; an unknown one is named in the reason, with what is allowed. */
function knownList(what: string, allowed: readonly string[]) {
  return z
    .array(
      z.string().refine((v) => allowed.includes(v), {
        error: (issue) =>
          `unknown ${what} ${JSON.stringify(issue.input)} (expected one of ${allowed.join(', ')})`,
      }),
    )
    .max(allowed.length);
}

/**
 * The request body (docs/design.md §7). The audience is one object rather than a union, so that a
 * mistake in it is reported where it is ("unknown governorate "XYZ"") and not as "invalid
 * input"; `all` alone, or filters, is checked after.
 */
function broadcastSchema(billerIds: string[]) {
  return z.strictObject({
    text: z.strictObject({ ar: broadcastText, en: broadcastText.nullish() }),
    audience: z
      .strictObject({
        all: z
          .literal(true, { error: 'must be true (or leave it out and name filters)' })
          .optional(),
        governorates: knownList('governorate', GOVERNORATE_CODES).optional(),
        billers: knownList('biller', billerIds).optional(),
        languages: knownList('language', ['ar', 'en']).optional(),
      })
      .refine(
        (a) => !a.all || (!a.governorates && !a.billers && !a.languages),
        'all cannot be combined with governorates, billers or languages',
      ),
    channels: z
      .array(z.enum(['sms', 'telegram']))
      .min(1, 'name at least one channel, or leave channels out for every channel')
      .max(2)
      .optional(),
    urgent: z.boolean().optional(),
    dryRun: z.boolean().optional(),
  });
}

type AudienceInput = z.infer<ReturnType<typeof broadcastSchema>>['audience'];

function toAudience(a: AudienceInput): BroadcastAudience {
  if (a.all) return { all: true };
  return {
    ...(a.governorates ? { governorates: a.governorates } : {}),
    ...(a.billers ? { billers: a.billers } : {}),
    ...(a.languages ? { languages: a.languages as Language[] } : {}),
  };
}

const listSchema = z.object({
  status: z.enum(['created', 'pending', 'succeeded', 'failed', 'expired', 'held']).optional(),
});

/** Constant-time comparison that does not leak the token's length. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function adminRouter(
  { config, payments, broadcasts, catalogue, metrics, store, wake }: HttpDeps,
  lockout: LoginLockout,
): Router {
  const newBroadcast = broadcastSchema(catalogue.billers.map((b) => b.id));
  const router = Router();
  const token = config.adminToken;
  const sessions = consoleSessions({ config, store });
  const unauthorized = (res: Response) =>
    res.status(401).setHeader('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
  const locked = (res: Response, wait: number) =>
    res
      .status(429)
      .setHeader('Retry-After', String(wait))
      .json({ error: 'too_many_attempts', retryAfter: wait });
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    if (!token || !sessions) {
      res.status(404).json({ error: 'not_found' });
      return;
    }
    const given = bearerToken(req.get('Authorization'));
    if (given !== null) {
      // A token is a login attempt: counted with the console's (5 wrong ones lock the client out).
      const attempt = await lockout.attempt(clientAddress(req), 'staff:api');
      if (attempt.retryAfter !== null) {
        locked(res, attempt.retryAfter);
        return;
      }
      if (given && sameSecret(given, token)) {
        await attempt.succeeded();
        next();
        return;
      }
      const wait = await attempt.failed();
      req.log.warn({ address: clientAddress(req) }, 'staff API token refused');
      // A wrong bearer is not rescued by a valid session cookie.
      if (wait !== null) locked(res, wait);
      else unauthorized(res);
      return;
    }
    // Or the console's session cookie (docs/design.md §3); a POST then also needs its CSRF token.
    const access = await sessions.apiAccess(req);
    if (access === 'csrf') {
      res.status(403).json({ error: 'csrf', reason: 'X-CSRF-Token is missing or wrong' });
      return;
    }
    if (access !== 'ok') {
      unauthorized(res);
      return;
    }
    next();
  });

  router.get('/payments', async (req, res) => {
    const parsed = listSchema.safeParse(req.query);
    if (!parsed.success) {
      res.status(400).json({ error: 'bad_request', reason: 'status must be a payment status' });
      return;
    }
    res.json({
      payments: await store.listPayments(parsed.data.status ? { status: parsed.data.status } : {}),
    });
  });

  router.get('/payments/:id', async (req, res) => {
    const payment = await store.getPayment(req.params.id ?? '');
    if (!payment) {
      res.status(404).json({ error: 'unknown_payment' });
      return;
    }
    const [events, audit] = await Promise.all([
      store.paymentEvents(payment.id),
      store.auditTrail('payment', payment.id),
    ]);
    res.json({ payment, events, audit });
  });

  router.post('/payments/:id/resolve', jsonBody({ limit: '8kb' }), async (req, res) => {
    const parsed = resolveSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({
        error: 'bad_request',
        reason: 'expected { "status": "succeeded"|"failed", "note": "…" }',
      });
      return;
    }
    const id = req.params.id ?? '';
    const resolved = await payments.resolveHeld(
      id,
      parsed.data.status,
      parsed.data.note,
      'staff:api',
    );
    if (!resolved) {
      const existing = await store.getPayment(id);
      res.status(existing ? 409 : 404).json({
        error: existing ? 'not_held' : 'unknown_payment',
        ...(existing ? { status: existing.status } : {}),
      });
      return;
    }
    wake();
    res.json({ payment: resolved });
  });

  // Broadcasts (docs/design.md §7).
  router.post('/broadcasts', jsonBody({ limit: '16kb' }), async (req, res) => {
    const parsed = newBroadcast.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({
        error: 'bad_request',
        reason: z.prettifyError(parsed.error).replace(/\n/g, '; '),
      });
      return;
    }
    const { text, channels, urgent, dryRun } = parsed.data;
    const audience = toAudience(parsed.data.audience);
    if (isEmptyAudience(audience)) {
      res.status(400).json({
        error: 'audience_empty',
        reason: 'name an audience: { "all": true } or governorates, billers or languages',
      });
      return;
    }
    const request = {
      text: { ar: text.ar, en: text.en ?? null },
      audience,
      ...(channels ? { channels: [...new Set(channels)] } : {}),
      urgent: urgent ?? false,
    };
    if (dryRun) {
      res.json({ dryRun: true, ...(await broadcasts.preview(request)) });
      return;
    }
    const created = await broadcasts.create({ ...request, createdBy: 'staff:api' });
    metrics.broadcastsTotal.inc({ outcome: 'created' });
    res.status(201).json({
      id: created.id,
      status: created.status === 'planning' ? 'sending' : created.status,
      recipients: created.recipients,
      smsPartsPerMessage: created.smsPartsPerMessage,
      smsPartsTotal: created.smsPartsTotal,
    });
  });

  router.get('/broadcasts', async (_req, res) => {
    const list = await broadcasts.list(50);
    res.json({
      broadcasts: list.map((b) => ({
        id: b.id,
        status: b.status === 'planning' ? 'sending' : b.status,
        text: b.text,
        audience: b.audience,
        channels: b.channels,
        urgent: b.urgent,
        recipients: b.recipients,
        smsPartsPerMessage: b.smsPartsPerMessage,
        smsPartsTotal: b.smsPartsTotal,
        createdBy: b.createdBy,
        createdAt: b.createdAt,
      })),
    });
  });

  router.get('/broadcasts/:id', async (req, res) => {
    const progress = await broadcasts.progress(req.params.id ?? '');
    if (!progress) {
      res.status(404).json({ error: 'unknown_broadcast' });
      return;
    }
    // "planning" (recipients still being written) is part of sending for the API.
    res.json({ ...progress, status: progress.status === 'planning' ? 'sending' : progress.status });
  });

  router.post('/broadcasts/:id/cancel', async (req, res) => {
    const id = req.params.id ?? '';
    const outcome = await broadcasts.cancel(id);
    if (outcome === 'unknown') {
      res.status(404).json({ error: 'unknown_broadcast' });
      return;
    }
    const progress = await broadcasts.progress(id);
    if (outcome === 'finished') {
      res.status(409).json({ error: 'already_finished', ...progress });
      return;
    }
    metrics.broadcastsTotal.inc({ outcome: 'cancelled' });
    res.json(progress);
  });
  return router;
}
