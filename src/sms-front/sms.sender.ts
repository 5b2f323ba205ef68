/**
 * The outbox's way out by SMS (docs/design.md §8): the rendered text is packed into SMS (numbered
 * choices), routed (the gateway the person wrote in on, else the SMS_ROUTE_ prefixes, else the
 * first listed), held to the gateway's parts-per-second limit, and sent. Provider failures come
 * back as the outbox's results: temporary (retry), permanent (fail), opted-out.
 */
import type { SmsConfig, SmsGatewayName } from '../config/env.js';
import type { MessageSender, SendResult } from '../core/outbox/message.handler.js';
import type { OutboxItemRecord, SentPart, SentPartRecord } from '../core/ports/store.port.js';
import { isMessagePayload, STILL_WANTED_AFTER_MS } from '../core/outbox/message.handler.js';
import { isE164 } from '../sms/phone.js';
import { chooseGateway } from '../sms/routing.js';
import type { SmsGatewayPort } from '../sms/sms-gateway.port.js';
import { packTurn } from '../sms/sms-renderer.js';
import { lanePriority, type RateGate } from '../core/outbox/rate-gate.js';

export interface SmsSenderDeps {
  config: Pick<SmsConfig, 'gateways' | 'routes'>;
  gateways: ReadonlyMap<SmsGatewayName, SmsGatewayPort>;
  /** Parts per second, one gate per gateway (SMS_MAX_PER_SECOND, SMS_MAX_PER_SECOND_ANDROID). */
  gates: ReadonlyMap<SmsGatewayName, RateGate>;
  /** PUBLIC_URL, for Twilio's StatusCallback. */
  publicUrl: string;
  /** The recorded parts of an item that went out as several SMS (the store's sentParts). */
  sentParts?: (outboxItemId: number) => Promise<SentPartRecord[]>;
  /**
   * Records one SMS of a turn sent as several as soon as it went (the store's recordSentPart),
   * so that its receipt is matched while the rest wait for the rate limit. Never rejects: a
   * part it could not record is recorded with the outcome.
   */
  recordPart?: (item: OutboxItemRecord, part: SentPart) => Promise<void>;
}

/**
 * The client id of message `index` of `count` an outbox item goes out as: the same on every try
 * of that message, so that a gateway that knows it (the Android gateway answers 409) sends no
 * second SMS for a request retried after no answer came; a new one once a receipt reported the
 * message failed, since then it must go again: for an item sent as one message, each time a
 * receipt's temporary failure put it back in the queue (`redeliveries`); for one of several,
 * each time that part is sent again after a failure of its own (`resends`, counted per part:
 * a part can be reported failed while the item waits for an ordinary retry, which counts no
 * redelivery). The item's creation time keeps a database started afresh, whose ids start again
 * at 1, from colliding with ids a phone still remembers. At most 36 characters (the cloud
 * server's limit).
 */
export function smsClientMessageId(
  item: Pick<OutboxItemRecord, 'id' | 'createdAt' | 'redeliveries'>,
  index: number,
  count: number,
  resends = 0,
): string {
  const base = `t${item.id.toString(36)}-${item.createdAt.getTime().toString(36)}`;
  const again = count > 1 ? resends : item.redeliveries;
  return `${base}${count > 1 ? `-${index + 1}` : ''}${again > 0 ? `r${again}` : ''}`;
}

function isGatewayName(value: unknown): value is SmsGatewayName {
  return value === 'twilio' || value === 'android';
}

export function smsSender(deps: SmsSenderDeps): MessageSender {
  return {
    async send({ identity, text, replies, choices, item, stillWanted }): Promise<SendResult> {
      const to = identity.address;
      if (!isE164(to)) return { status: 'permanent', error: `not an E.164 number: ${to}` };
      const payload = isMessagePayload(item.payload) ? item.payload : null;
      const inbound = isGatewayName(payload?.gateway) ? payload.gateway : null;
      const route = chooseGateway(deps.config, { to, inboundGateway: inbound });
      const gateway = route ? deps.gateways.get(route.gateway) : undefined;
      if (!route || !gateway) return { status: 'permanent', error: 'no SMS gateway configured' };
      const messages = packTurn({
        firstKey: payload?.key,
        replies: replies ?? [text],
        choiceLabels: (choices ?? []).map((c) => c.label),
      });
      const several = messages.length > 1;
      // A turn sent as several SMS and tried again: those that went out before and were not
      // reported failed are not sent twice. Each SMS's provider id is kept, so that each one's
      // receipt is matched.
      const again = several && (item.attempts > 1 || item.redeliveries > 0);
      const earlier = again && deps.sentParts ? await deps.sentParts(item.id) : [];
      const through = new Map(
        earlier.filter((p) => p.deliveryStatus !== 'failed').map((p) => [p.part, p]),
      );
      // A part reported failed goes as a new SMS; one whose send got no answer, as the same.
      const resends = new Map(
        earlier.map((p) => [p.part, p.resends + (p.deliveryStatus === 'failed' ? 1 : 0)]),
      );
      const parts: SentPart[] = [];
      const gate = deps.gates.get(route.gateway);
      for (const [i, message] of messages.entries()) {
        if (through.has(i)) continue;
        // Each message waits for its parts; replies are served before bulk.
        const asked = performance.now();
        const release = await gate?.acquire(Math.max(1, message.parts), lanePriority(item.lane));
        const nothingOut = parts.length === 0 && through.size === 0;
        if (nothingOut && stillWanted && performance.now() - asked > STILL_WANTED_AFTER_MS) {
          // A STOP that came in while this waited wins (never half a message, so only before
          // the first).
          const wanted = await stillWanted().catch(() => true);
          if (!wanted) {
            release?.();
            return {
              status: 'withdrawn',
              error: 'withdrawn while waiting for its turn (opted out, or its broadcast cancelled)',
            };
          }
        }
        const result = await gateway
          .send(to, message.text, {
            ...(route.gateway === 'twilio'
              ? { statusCallbackUrl: `${deps.publicUrl.replace(/\/+$/, '')}/sms/twilio/status` }
              : {}),
            clientMessageId: smsClientMessageId(item, i, messages.length, resends.get(i)),
          })
          .finally(() => release?.());
        if (result.status !== 'sent') {
          // "Too many requests, retry after": nothing more through this gateway until then.
          if (result.status === 'temporary' && result.retryAfterMs !== undefined)
            gate?.pause(result.retryAfterMs);
          return result.status === 'temporary' && parts.length > 0 ? { ...result, parts } : result;
        }
        const sent = {
          part: i,
          providerMessageId: result.providerMessageId,
          resends: resends.get(i) ?? 0,
        };
        parts.push(sent);
        if (several) await deps.recordPart?.(item, sent);
      }
      // The item keeps its first SMS's id (an earlier try's, when that one is not sent again).
      const first =
        through.get(0)?.providerMessageId ??
        parts.find((p) => p.part === 0)?.providerMessageId ??
        null;
      return {
        status: 'sent',
        providerMessageId: first,
        receipts: true,
        ...(several ? { parts } : {}),
      };
    },
  };
}
