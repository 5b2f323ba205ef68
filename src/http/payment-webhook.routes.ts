/**
 * `POST /payments/webhook/:channelId` (docs/design.md §5): verify the raw bytes, then apply the event
 * once. 2xx only after the event is durably applied, so a channel retries anything else.
 * A request without a signature header is refused before its body is read; an unknown channel
 * is answered exactly as a bad signature is (its signature is checked against a random secret
 * nobody has), so the answers do not tell which channel ids exist.
 */
import { randomBytes } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { qirsh } from '../core/money.js';
import { PaymentChangedConcurrently } from '../core/payments/payment-conflict.js';
import { verifyWebhookSignature } from '../core/payments/webhook-signature.js';
import { parseStorableJson } from '../core/text/storable.js';
import type { HttpDeps } from './http.app.js';
import { refuseBeforeBody } from './refuse-early.js';

const eventSchema = z
  .object({
    eventId: z.string().min(1).max(200),
    providerRef: z.string().min(1).max(200),
    reference: z.string().min(1).max(200),
    status: z.enum(['pending', 'succeeded', 'failed', 'expired']),
    amountMinor: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullish(),
    occurredAt: z.iso.datetime({ offset: true }).nullish(),
  })
  // A success must say how much moved: the core compares it with the bill (docs/design.md §6), and an
  // unverifiable success is refused here rather than accepted or held on a guess. The payment
  // stays pending, so reconciliation asks the channel (GET) after the deadline.
  .refine(
    (e) => e.status !== 'succeeded' || (e.amountMinor !== null && e.amountMinor !== undefined),
    {
      path: ['amountMinor'],
      message: 'required when status is "succeeded"',
    },
  );

export function paymentWebhookRouter({
  payments,
  webhookSecrets,
  metrics,
  wake,
  clock,
}: HttpDeps): Router {
  const router = Router();
  const decoySecret = randomBytes(32).toString('hex');
  const signed = (req: Request<{ channelId: string }>, res: Response, next: NextFunction) => {
    if (req.get('X-Tasdeed-Signature')) {
      next();
      return;
    }
    const known = webhookSecrets.has(req.params.channelId);
    metrics.paymentWebhooksTotal.inc({
      channel: known ? req.params.channelId : 'unknown',
      outcome: known ? 'signature_missing' : 'unknown_channel',
    });
    refuseBeforeBody(res, 401, { error: 'invalid_signature', reason: 'missing' });
  };
  const rawBody = express.raw({ type: () => true, limit: '64kb' });
  router.post('/:channelId', signed, rawBody, async (req, res) => {
    const channelId = req.params.channelId ?? '';
    const secret = webhookSecrets.get(channelId);
    const count = (outcome: string) =>
      metrics.paymentWebhooksTotal.inc({ channel: secret ? channelId : 'unknown', outcome });
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const header = req.get('X-Tasdeed-Signature');
    const check = verifyWebhookSignature(secret ?? decoySecret, raw, header, clock.now());
    if (!secret || check !== 'ok') {
      count(secret ? `signature_${check}` : 'unknown_channel');
      req.log.warn({ channel: channelId, known: !!secret, check }, 'payment webhook refused');
      res.status(401).json({ error: 'invalid_signature', reason: check });
      return;
    }
    let body: unknown;
    try {
      body = parseStorableJson(raw.toString('utf8'));
    } catch {
      count('malformed');
      res.status(400).json({ error: 'malformed_body', reason: 'not JSON' });
      return;
    }
    const parsed = eventSchema.safeParse(body);
    if (!parsed.success) {
      count('malformed');
      res.status(400).json({
        error: 'malformed_body',
        reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
      return;
    }
    const e = parsed.data;
    let outcome: Awaited<ReturnType<typeof payments.applyEvent>>;
    try {
      outcome = await payments.applyEvent(
        channelId,
        {
          eventId: e.eventId,
          providerRef: e.providerRef,
          reference: e.reference,
          status: e.status,
          amountMinor:
            e.amountMinor === null || e.amountMinor === undefined ? null : qirsh(e.amountMinor),
          occurredAt: e.occurredAt ? new Date(e.occurredAt) : null,
        },
        'webhook',
      );
    } catch (error) {
      if (!(error instanceof PaymentChangedConcurrently)) throw error;
      // Another event for this payment was applied at the same moment; nothing of this one
      // was written. Sent again, it is decided against the new state.
      count('conflict');
      res
        .status(503)
        .setHeader('Retry-After', '1')
        .json({ error: 'conflict', reason: 'another event for this payment came first; retry' });
      return;
    }
    count(outcome);
    if (outcome === 'unknown-payment') {
      res.status(404).json({ error: 'unknown_payment' });
      return;
    }
    if (outcome === 'ref-mismatch') {
      res.status(422).json({ error: 'provider_ref_mismatch' });
      return;
    }
    wake();
    res.status(200).json({ ok: true, outcome });
  });
  return router;
}
