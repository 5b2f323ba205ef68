/**
 * The SMS front, put together from the configuration: the configured gateways, the inbound
 * worker, the outbox sender for channel 'sms' and the webhooks' dependencies.
 */
import type { AppConfig, SmsGatewayName } from '../config/env.js';
import type { ConversationService } from '../core/conversation/conversation.service.js';
import type { MessageSender } from '../core/outbox/message.handler.js';
import type { Clock } from '../core/ports/clock.port.js';
import type { Store } from '../core/ports/store.port.js';
import type { SmsWebhookDeps } from '../http/sms.routes.js';
import type { Logger } from '../observability/logger.js';
import { AndroidGateway } from '../sms/android/android.gateway.js';
import type { SmsDeliveryStatus, SmsGatewayPort } from '../sms/sms-gateway.port.js';
import { TwilioGateway } from '../sms/twilio/twilio.gateway.js';
import { ReplyCap } from '../sms/limits.js';
import { RateGate } from '../core/outbox/rate-gate.js';
import { SmsInbox } from './sms-inbox.js';
import { smsSender } from './sms.sender.js';

export interface SmsFront {
  readonly inbox: SmsInbox;
  readonly sender: MessageSender;
  readonly webhooks: SmsWebhookDeps;
  readonly gateways: ReadonlyMap<SmsGatewayName, SmsGatewayPort>;
  /** Its rate gates, one per gateway (several instances split them: see FleetMembership). */
  readonly gates: RateGate[];
  start(): void;
  stop(): Promise<void>;
}

export interface SmsFrontDeps {
  config: AppConfig;
  store: Store;
  conversation: ConversationService;
  clock: Clock;
  logger: Logger;
  wake: () => void;
}

/** The SMS front, or null while SMS_GATEWAY lists no gateway. */
export function createSmsFront(deps: SmsFrontDeps): SmsFront | null {
  const { config, store, clock, logger } = deps;
  const gateways = new Map<SmsGatewayName, SmsGatewayPort>();
  if (config.sms.twilio) gateways.set('twilio', new TwilioGateway(config.sms.twilio));
  if (config.sms.android) gateways.set('android', new AndroidGateway(config.sms.android));
  if (gateways.size === 0) return null;

  const inbox = new SmsInbox({
    store,
    conversation: deps.conversation,
    replyCap: new ReplyCap(config.limits.smsRepliesPerHour, store, clock),
    clock,
    logger,
    wake: deps.wake,
  });
  const gates = new Map<SmsGatewayName, RateGate>([
    ['twilio', new RateGate({ ratePerSecond: config.limits.smsPerSecond })],
    ['android', new RateGate({ ratePerSecond: config.limits.smsPerSecondAndroid })],
  ]);
  const sender = smsSender({
    config: config.sms,
    gateways,
    gates,
    publicUrl: config.publicUrl,
    sentParts: (id) => store.sentParts(id),
    recordPart: async (item, part) => {
      if (!item.leaseOwner) return;
      try {
        await store.recordSentPart(item.id, item.leaseOwner, part, clock.now());
      } catch (error) {
        // Costs no SMS: the outcome records the part again.
        logger.warn({ err: error, outboxId: item.id }, 'sms part not recorded as it went');
      }
    },
  });

  const onStatus = async (status: SmsDeliveryStatus): Promise<void> => {
    // The store applies the receipt and, for a temporary failure (no service, the SIM's
    // sending limit, a full queue at the carrier), puts the message back in the queue, in one
    // transaction (see Store.recordSmsStatus).
    const { fresh, item, requeued } = await store.recordSmsStatus(
      {
        dedupeKey: `${status.gateway}:${status.dedupeKey}`,
        gateway: status.gateway,
        providerMessageId: status.providerMessageId,
        state: status.state,
        errorCode: status.errorCode,
        failure: status.failure?.status ?? null,
        failureError: status.failure?.error ?? null,
      },
      clock.now(),
    );
    if (!fresh) return;
    if (!item) {
      logger.info(
        { gateway: status.gateway, state: status.state },
        'receipt for no known message (kept: applied if its message is recorded later)',
      );
      return;
    }
    // The carrier says the number unsubscribed: stop every message to it.
    if (status.failure?.status === 'opted-out' && item.identityId) {
      await store.setOptedOut(item.identityId, true, clock.now());
    }
    if (status.failure?.status === 'temporary') {
      logger.info(
        { gateway: status.gateway, outboxId: item.id, code: status.errorCode, requeued },
        requeued ? 'sms delivery failed for now: sent again later' : 'sms delivery failed',
      );
    }
    if (requeued) deps.wake();
  };

  return {
    inbox,
    sender,
    gateways,
    gates: [...gates.values()],
    webhooks: {
      publicUrl: config.publicUrl,
      twilioAuthToken: config.sms.twilio?.authToken ?? null,
      androidSecret: config.sms.android?.webhookSecret ?? null,
      record: (message) => inbox.record(message),
      onStatus,
      now: () => clock.now().getTime(),
    },
    start: () => inbox.start(),
    stop: () => inbox.stop(),
  };
}
