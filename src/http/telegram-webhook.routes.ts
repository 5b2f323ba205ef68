/**
 * POST /telegram/webhook (docs/design.md §3): 401 unless X-Telegram-Bot-Api-Secret-Token matches
 * (constant-time); the update is durably recorded, then 200 at once. Processing is the update
 * worker's job, never awaited here: a 2xx tells Telegram never to send the update again.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import { refuseBeforeBody } from './refuse-early.js';

const updateSchema = z.looseObject({ update_id: z.number().int().nonnegative() });

export interface TelegramWebhookDeps {
  secret: string;
  record(update: z.infer<typeof updateSchema>): Promise<'recorded' | 'duplicate'>;
}

/** Equal-length digests, so the comparison takes the same time whatever the header holds. */
function secretMatches(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256')
    .update(given ?? '')
    .digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

export function telegramWebhookRouter(deps: TelegramWebhookDeps): Router {
  const router = Router();
  router.post(
    '/webhook',
    (req, res, next) => {
      // Checked before the body is read: a wrong or missing secret holds no connection.
      if (!secretMatches(req.get('X-Telegram-Bot-Api-Secret-Token'), deps.secret)) {
        refuseBeforeBody(res, 401, { error: 'unauthorized' });
        return;
      }
      next();
    },
    express.json({ limit: '1mb' }),
    async (req, res) => {
      const parsed = updateSchema.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json({ error: 'bad_request', reason: 'expected a Telegram update' });
        return;
      }
      const outcome = await deps.record(parsed.data);
      req.log.debug({ updateId: parsed.data.update_id, outcome }, 'telegram update');
      res.json({ ok: true });
    },
  );
  return router;
}
