/**
 * The SMS webhooks (docs/design.md §3), mounted only for the configured gateways:
 * - POST /sms/twilio/inbound: 403 unless X-Twilio-Signature is valid for PUBLIC_URL + path and
 *   the form (400 without it); the message is durably recorded, then empty TwiML at once (the
 *   reply goes out through the REST API via the outbox, never as TwiML);
 * - POST /sms/twilio/status: delivery receipts, same signature rule;
 * - POST /sms/android/webhook: 401 unless X-Signature / X-Timestamp verify within 5 minutes;
 *   sms:received is recorded (deduplicated by the event's own id), sms:delivered / sms:failed
 *   update delivery.
 * A request without its signature header is refused before its body is read.
 */
import express, { Router, type Request, type Response } from 'express';
import { parseAndroidEventBody, verifyAndroidSignature } from '../sms/android/android.webhook.js';
import type { InboundSms, SmsDeliveryStatus } from '../sms/sms-gateway.port.js';
import {
  parseTwilioInbound,
  parseTwilioStatus,
  verifyTwilioSignature,
  type FormParams,
} from '../sms/twilio/twilio.webhook.js';
import { refuseBeforeBody } from './refuse-early.js';

export interface SmsWebhookDeps {
  publicUrl: string;
  /** Twilio's auth token; null while Twilio is not configured (its routes are then absent). */
  twilioAuthToken: string | null;
  /** The Android gateway's signing key; null while it is not configured. */
  androidSecret: string | null;
  /** Durably records an inbound message; processing is not awaited. */
  record(message: InboundSms): Promise<'recorded' | 'duplicate'>;
  /** Records a delivery receipt. */
  onStatus(status: SmsDeliveryStatus): Promise<void>;
  now(): number;
}

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const BODY_LIMIT = '64kb';

/**
 * No signature header: refused before the form is read (a body that never ends holds nothing).
 * The same answer as a signed request whose header is empty.
 */
function twilioHeaderPresent(req: Request, res: Response, next: () => void): void {
  if (req.get('X-Twilio-Signature')?.trim()) {
    next();
    return;
  }
  refuseBeforeBody(res, 400, { error: 'bad_request', reason: 'X-Twilio-Signature missing' });
}

/** No signature or timestamp header: refused before the body is read. */
function androidHeadersPresent(req: Request, res: Response, next: () => void): void {
  if (req.get('X-Signature')?.trim() && req.get('X-Timestamp')?.trim()) {
    next();
    return;
  }
  refuseBeforeBody(res, 401, { error: 'unauthorized' });
}

function twilioSigned(deps: SmsWebhookDeps, authToken: string) {
  return (req: Request, res: Response, next: () => void) => {
    const check = verifyTwilioSignature({
      authToken,
      publicUrl: deps.publicUrl,
      path: req.originalUrl,
      signature: req.get('X-Twilio-Signature'),
      params: (req.body ?? {}) as FormParams,
    });
    if (check === 'missing') {
      res.status(400).json({ error: 'bad_request', reason: 'X-Twilio-Signature missing' });
      return;
    }
    if (check !== 'ok') {
      res.status(403).json({ error: 'forbidden' });
      return;
    }
    next();
  };
}

export function smsWebhookRouter(deps: SmsWebhookDeps): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: BODY_LIMIT });

  if (deps.twilioAuthToken !== null) {
    const signed = twilioSigned(deps, deps.twilioAuthToken);
    router.post('/twilio/inbound', twilioHeaderPresent, form, signed, async (req, res) => {
      const parsed = parseTwilioInbound(req.body);
      if (!parsed.ok) {
        res.status(400).json({ error: 'bad_request', reason: parsed.error });
        return;
      }
      const outcome = await deps.record(parsed.value);
      req.log.debug({ sid: parsed.value.dedupeKey, outcome }, 'twilio inbound sms');
      res.type('text/xml').send(EMPTY_TWIML);
    });
    router.post('/twilio/status', twilioHeaderPresent, form, signed, async (req, res) => {
      const parsed = parseTwilioStatus(req.body);
      if (!parsed.ok) {
        res.status(400).json({ error: 'bad_request', reason: parsed.error });
        return;
      }
      if (parsed.value) await deps.onStatus(parsed.value);
      else
        req.log.debug({ status: (req.body as FormParams).MessageStatus }, 'twilio status ignored');
      res.type('text/xml').send(EMPTY_TWIML);
    });
  }

  if (deps.androidSecret !== null) {
    const secret = deps.androidSecret;
    router.post(
      '/android/webhook',
      androidHeadersPresent,
      express.raw({ type: () => true, limit: BODY_LIMIT }),
      async (req, res) => {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const check = verifyAndroidSignature({
          secret,
          rawBody: raw,
          signature: req.get('X-Signature'),
          timestamp: req.get('X-Timestamp'),
          now: deps.now(),
        });
        if (check !== 'ok') {
          res.status(401).json({ error: 'unauthorized' });
          return;
        }
        const parsed = parseAndroidEventBody(raw);
        if (!parsed.ok) {
          res.status(400).json({ error: 'bad_request', reason: parsed.error });
          return;
        }
        const event = parsed.value;
        if (event.kind === 'inbound') await deps.record(event.message);
        else if (event.kind === 'status') await deps.onStatus(event.status);
        res.json({ ok: true });
      },
    );
  }
  return router;
}
