/**
 * The staff HTTP API (DESIGN §3, §6): bearer `TASDEED_ADMIN_TOKEN`; every route answers 404
 * while no token is configured, 401 without the right token.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { HttpDeps } from './http.app.js';

const resolveSchema = z.object({
  status: z.enum(['succeeded', 'failed']),
  note: z.string().trim().min(1).max(1000),
});

const listSchema = z.object({
  status: z.enum(['created', 'pending', 'succeeded', 'failed', 'expired', 'held']).optional(),
});

/** Constant-time comparison that does not leak the token's length. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function adminRouter({ config, payments, store, wake }: HttpDeps): Router {
  const router = Router();
  const token = config.adminToken;
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!token) {
      res.status(404).json({ error: 'not_found' });
      return;
    }
    const header = req.get('Authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!given || !sameSecret(given, token)) {
      res.status(401).setHeader('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
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

  router.post('/payments/:id/resolve', express.json({ limit: '8kb' }), async (req, res) => {
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
  return router;
}
