/**
 * The sandbox channel (docs/design.md §3): talk to the core as an SMS or Telegram user with no
 * outside system. Sandbox senders are identities of their own, never a real subscriber's.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { IdentityChannel } from '../core/domain.js';
import { renderTurn } from '../core/i18n/render.js';
import type { HttpDeps } from './http.app.js';
import { jsonBody } from './outside-text.js';
import { sandboxPageRouter } from './sandbox-page/sandbox.page.js';

const medium = z.enum(['sms', 'telegram']);
const sender = z.string().trim().min(1).max(64);

const inboundSchema = z.union([
  z
    .object({
      channel: medium,
      from: sender,
      // Any length the body limit lets through: an oversized text is answered like any text
      // that is not a command (with help), as on SMS and Telegram, not refused.
      text: z.string(),
      payload: z.undefined().optional(),
    })
    .strict(),
  z
    .object({
      channel: medium,
      from: sender,
      payload: z.string().min(1).max(256),
      text: z.undefined().optional(),
    })
    .strict(),
]);

const listSchema = z.object({
  channel: medium,
  from: sender,
  after: z.coerce.number().int().nonnegative().default(0),
});

function sandboxChannel(m: 'sms' | 'telegram'): IdentityChannel {
  return m === 'sms' ? 'sandbox-sms' : 'sandbox-telegram';
}

export function sandboxRouter(deps: HttpDeps): Router {
  const { conversation, translator, store, metrics } = deps;
  const router = Router();
  // GET /sandbox: the page with the two phones (and its static files).
  router.use(sandboxPageRouter(deps));
  router.post('/messages', jsonBody({ limit: '32kb' }), async (req, res) => {
    const parsed = inboundSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({
        error: 'bad_request',
        reason:
          'expected { "channel": "sms"|"telegram", "from": "…", "text": "…" } or { …, "payload": "…" }',
      });
      return;
    }
    const { channel, from } = parsed.data;
    metrics.inboundMessagesTotal.inc({ channel: `sandbox-${channel}` });
    const outcome = await conversation.handle({
      channel: sandboxChannel(channel),
      address: from,
      ...(parsed.data.payload !== undefined
        ? { payload: parsed.data.payload }
        : { text: parsed.data.text ?? '' }),
    });
    if (!outcome.deliver) {
      res.json({ replies: [], choices: [] });
      return;
    }
    const rendered = renderTurn(translator, outcome, outcome.subscriber, channel, { plain: true });
    metrics.repliesTotal.inc({ channel: `sandbox-${channel}` }, rendered.replies.length);
    res.json(rendered);
  });

  router.get('/messages', async (req, res) => {
    const parsed = listSchema.safeParse(req.query);
    if (!parsed.success) {
      res
        .status(400)
        .json({ error: 'bad_request', reason: 'expected ?channel=sms|telegram&from=…&after=<id>' });
      return;
    }
    const identity = await store.findIdentity(
      sandboxChannel(parsed.data.channel),
      parsed.data.from,
    );
    const items = identity ? await store.sentMessages(identity.id, parsed.data.after, 100) : [];
    res.json({
      messages: items.map((m) => ({
        id: m.id,
        text: m.text ?? '',
        at: (m.doneAt ?? m.createdAt).toISOString(),
      })),
    });
  });
  return router;
}
