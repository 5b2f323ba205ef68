/**
 * The composition root: builds the core, its adapters and the HTTP app from a validated
 * configuration. `npm start` (src/main.ts), the tests and `npm run chat` all start Tasdeed here.
 */
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  createBiller,
  createPaymentChannel,
  type PaymentChannelAdapter,
} from './adapters/factory.js';
import { createTelegramBot, type TelegramBot } from './bot/bot.js';
import type { AppConfig } from './config/env.js';
import { decideSandbox, type SandboxDecision } from './config/sandbox.js';
import { BillService } from './core/bills/bill.service.js';
import type { Catalogue } from './core/catalogue.js';
import { ConversationService } from './core/conversation/conversation.service.js';
import type { TurnBudget } from './core/conversation/paging.js';
import { GOVERNORATE_CODES, mediumOf } from './core/domain.js';
import { Translator } from './core/i18n/translator.js';
import { OutboxDispatcher } from './core/outbox/dispatcher.js';
import { MessageHandler, sandboxSender } from './core/outbox/message.handler.js';
import { PaymentService } from './core/payments/payment.service.js';
import { SettlementHandler } from './core/payments/settlement.handler.js';
import type { BillerPort } from './core/ports/biller.port.js';
import { systemClock, type Clock } from './core/ports/clock.port.js';
import type { Store } from './core/ports/store.port.js';
import { announceRecovery, probeWatched } from './core/watches.js';
import { FleetMembership } from './core/fleet.js';
import { BroadcastService } from './core/broadcasts/broadcast.service.js';
import { ReminderService } from './core/reminders/reminder.service.js';
import { RetentionService } from './core/retention/retention.service.js';
import { quietUntil } from './core/schedule/local-time.js';
import { startScheduler, type Scheduler } from './jobs/scheduler.js';
import { measureSms } from './sms/sms-renderer.js';
import { fitsSmsTurn } from './sms/sms-turn-budget.js';
import { fitsTelegramTurn } from './bot/telegram-turn-budget.js';
import { createSmsFront, type SmsFront } from './sms-front/sms-front.js';
import { openDatabase, type Database } from './db/database.js';
import { RetentionStore } from './db/retention-store.js';
import { createHttpApp } from './http/http.app.js';
import { createHttpServer } from './http/http-server.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';

export interface TasdeedOptions {
  config: AppConfig;
  catalogue: Catalogue;
  logger: Logger;
  clock?: Clock;
  /** How often the reconciliation job looks for overdue payments. */
  reconcileEveryMs?: number;
  /** Run the cron jobs (reminders hourly and at start, the recovery probe); default true. */
  scheduler?: boolean;
  /** The dispatcher's bulk pool in-flight limit (default 16). */
  bulkInFlight?: number;
}

export interface Tasdeed {
  readonly config: AppConfig;
  /** Whether the sandbox is served, and whether bulk messages reach its identities. */
  readonly sandbox: SandboxDecision;
  readonly store: Store;
  readonly conversation: ConversationService;
  readonly payments: PaymentService;
  readonly bills: BillService;
  readonly dispatcher: OutboxDispatcher;
  readonly reminders: ReminderService;
  readonly broadcasts: BroadcastService;
  /** Deletes what is kept only for TASDEED_RETENTION_DAYS (daily, and once at start). */
  readonly retention: RetentionService;
  /** The cron jobs once started; null before start or when disabled. */
  scheduler: Scheduler | null;
  readonly translator: Translator;
  readonly metrics: Metrics;
  readonly webhookSecrets: ReadonlyMap<string, string>;
  /** The Telegram bot; null while TELEGRAM_BOT_TOKEN is unset. */
  readonly telegram: TelegramBot | null;
  /** The SMS front; null while SMS_GATEWAY lists no gateway. */
  readonly sms: SmsFront | null;
  /** The HTTP server once listening. */
  server: Server | null;
  /** Starts the HTTP server, the dispatcher and the jobs. Resolves with the bound port. */
  start(): Promise<number>;
  /** Graceful stop: no new requests, in-flight work finished, database closed. */
  stop(): Promise<void>;
}

export async function createTasdeed(options: TasdeedOptions): Promise<Tasdeed> {
  const { config, catalogue, logger } = options;
  const clock = options.clock ?? systemClock;
  const sandbox = decideSandbox(config, catalogue);
  // One line either way: the operator learns why /sandbox answers 404, or that it is exposed.
  if (sandbox.warning) logger.warn({ sandbox: sandbox.on }, sandbox.warning);
  else logger.info({ sandbox: sandbox.on }, sandbox.reason);
  const metrics = createMetrics();
  const database: Database = await openDatabase(config.database);
  const store = database.store;
  // Long polling allows one consumer per bot (docs/design.md §10): a second instance must not poll.
  if (config.telegram?.mode === 'polling' && !(await database.holdExclusive('telegram-polling'))) {
    await database.close();
    throw new Error(
      'TELEGRAM_MODE=polling: another instance on this database is already polling Telegram, ' +
        'and long polling allows one consumer; set TELEGRAM_MODE=webhook (with PUBLIC_URL and ' +
        'TELEGRAM_WEBHOOK_SECRET) to run several instances',
    );
  }

  // Coverage: the catalogue seeds every biller × governorate the table does not have yet.
  await store.seedCoverage(
    catalogue.billers.flatMap((b) =>
      GOVERNORATE_CODES.map((governorate) => ({
        billerId: b.id,
        governorate,
        available: !(catalogue.coverage[b.id]?.unavailable ?? []).includes(governorate),
      })),
    ),
  );

  const translator = new Translator(catalogue);
  const owner = `tasdeed-${process.pid}-${randomUUID().slice(0, 8)}`;
  // Several instances on PostgreSQL split every provider rate limit between them.
  const fleet =
    database.kind === 'postgresql'
      ? new FleetMembership(store, {
          instanceId: owner,
          onError: (error) => logger.warn({ err: error }, 'fleet heartbeat failed'),
        })
      : null;
  // Quiet hours hold bulk messages (reminders, broadcasts) back, urgent broadcasts excepted.
  const quiet = (now: Date) => quietUntil(now, config.quietHours, config.timezone);
  const dispatcher = new OutboxDispatcher(store, clock, {
    owner,
    pools: [
      { name: 'replies', lanes: ['reply', 'work'], inFlight: 16 },
      { name: 'bulk', lanes: ['bulk'], inFlight: options.bulkInFlight ?? 16 },
    ],
    quietUntil: quiet,
    onOutcome: (item, outcome, seconds) => {
      metrics.outboxItemsTotal.inc({ kind: item.kind, lane: item.lane, outcome: outcome.status });
      metrics.outboxDispatchSeconds.observe({ kind: item.kind }, seconds);
      if (outcome.status === 'failed')
        logger.warn(
          { itemId: item.id, kind: item.kind, error: outcome.error },
          'outbox item failed',
        );
    },
    onError: (error, item) =>
      logger.error({ err: error, itemId: item?.id }, 'outbox dispatcher error'),
  });
  const wake = () => dispatcher.notify();

  const billers = new Map<string, BillerPort>();
  for (const def of catalogue.billers) {
    billers.set(
      def.id,
      createBiller(def, {
        clock,
        onBreakerStateChange: (billerId, state) => {
          metrics.billerCircuitState.set(
            { biller: billerId },
            state === 'closed' ? 0 : state === 'halfOpen' ? 1 : 2,
          );
          logger.warn({ biller: billerId, state }, 'biller circuit state changed');
        },
      }),
    );
  }
  const channels = new Map<string, PaymentChannelAdapter>();
  for (const def of catalogue.paymentChannels) {
    const channel = createPaymentChannel(def, {
      clock,
      publicUrl: config.publicUrl,
      log: (msg, err) => logger.warn({ err, channel: def.id }, msg),
      // The simulated channel's instructions come from the locale files, in the payer's language.
      texts: translator,
    });
    channels.set(def.id, channel);
  }
  const webhookSecrets = new Map([...channels].map(([id, c]) => [id, c.webhookSecret]));

  const onRecovered = (kind: 'biller' | 'channel', id: string) => {
    announceRecovery(store, clock, kind, id)
      .then((n) => {
        if (n > 0) wake();
      })
      .catch((error: unknown) => logger.error({ err: error }, 'could not announce recovery'));
  };
  const bills = new BillService(store, billers, catalogue, clock, {
    onBillerRecovered: (id) => onRecovered('biller', id),
    onInquiry: (biller, outcome) => metrics.billerRequestsTotal.inc({ biller, outcome }),
  });
  const payments = new PaymentService(
    store,
    channels,
    catalogue,
    clock,
    config.publicUrl,
    {
      onTransition: (payment, from) => {
        metrics.paymentsTotal.inc({ channel: payment.channelId, status: payment.status });
        logger.info(
          { paymentId: payment.id, fromState: from, toState: payment.status },
          'payment transition',
        );
        wake();
      },
      onAlert: (message, payment) =>
        logger.warn(
          { paymentId: payment.id, heldReason: payment.heldReason, alert: 'staff' },
          message,
        ),
      onChannelRecovered: (id) => onRecovered('channel', id),
    },
    {
      maxOpen: config.subscriberLimits.maxOpenPayments,
      startsPerHour: config.subscriberLimits.paymentStartsPerHour,
    },
  );
  // Long answers are paged to what one answer may cost on the reader's medium.
  const budget: TurnBudget = (turn, reader) =>
    mediumOf(reader.channel) === 'sms'
      ? fitsSmsTurn(translator, turn, reader)
      : fitsTelegramTurn(translator, turn, reader);
  const conversation = new ConversationService(
    store,
    bills,
    payments,
    catalogue,
    clock,
    config.timezone,
    { maxFollows: config.subscriberLimits.maxFollows, budget },
  );

  const messages = new MessageHandler(store, translator, clock, { quietUntil: quiet });
  messages.setSender('sandbox-sms', sandboxSender).setSender('sandbox-telegram', sandboxSender);
  dispatcher.register('message', messages.handle);

  const reminders = new ReminderService(
    store,
    bills,
    clock,
    {
      offsets: config.reminders.offsets,
      sendHour: config.reminders.sendHour,
      timezone: config.timezone,
      owner,
      reach: { includeSandbox: sandbox.inBulk },
    },
    {
      onPlanned: (n) => {
        metrics.remindersPlannedTotal.inc(n);
        wake();
      },
    },
  );
  dispatcher.register('reminder', messages.handlerFor(reminders.compose));
  const broadcasts = new BroadcastService(store, clock, {
    reach: { includeSandbox: sandbox.inBulk },
    smsParts: (text) => Math.max(1, measureSms(text).parts),
    onQueued: wake,
    onError: (error, id) =>
      logger.error({ err: error, broadcastId: id }, 'broadcast planning failed'),
  });
  dispatcher.register('broadcast', messages.handlerFor(broadcasts.compose));
  const retention = new RetentionService(store, new RetentionStore(store), clock, {
    days: config.retentionDays,
    timezone: config.timezone,
    owner,
  });

  const telegram = config.telegram
    ? createTelegramBot({
        config: config.telegram,
        publicUrl: config.publicUrl,
        bulkPerSecond: config.limits.telegramBulkPerSecond,
        store,
        conversation,
        broadcasts,
        translator,
        catalogue,
        clock,
        logger: logger.child({ component: 'telegram' }),
        staffIds: config.telegram.staffIds,
        wake,
      })
    : null;
  if (telegram) messages.setSender('telegram', telegram.sender);

  const sms = createSmsFront({
    config,
    store,
    conversation,
    clock,
    logger: logger.child({ component: 'sms' }),
    wake,
  });
  if (sms) messages.setSender('sms', sms.sender);
  dispatcher.register(
    'settlement',
    new SettlementHandler(store, billers, clock, {
      onAlert: (message, payment) =>
        logger.warn({ paymentId: payment.id, alert: 'staff' }, message),
    }).handle,
  );

  const app = createHttpApp({
    config,
    sandbox: sandbox.on,
    logger,
    metrics,
    store,
    conversation,
    payments,
    broadcasts,
    catalogue,
    translator,
    webhookSecrets,
    clock,
    wake,
    telegramWebhook:
      telegram && config.telegram?.mode === 'webhook'
        ? {
            secret: config.telegram.webhookSecret,
            record: (update) => telegram.inbox.record(update),
          }
        : null,
    smsWebhooks: sms?.webhooks ?? null,
  });

  let reconcileTimer: NodeJS.Timeout | null = null;
  let reconciling = false;
  const reconcile = async () => {
    if (reconciling) return;
    reconciling = true;
    try {
      const n = await payments.reconcileDue();
      if (n > 0) metrics.reconciliationChecksTotal.inc({ outcome: 'checked' }, n);
    } catch (error) {
      metrics.reconciliationChecksTotal.inc({ outcome: 'error' });
      logger.error({ err: error }, 'reconciliation failed');
    } finally {
      reconciling = false;
    }
  };

  const tasdeed: Tasdeed = {
    config,
    sandbox,
    store,
    conversation,
    payments,
    bills,
    dispatcher,
    reminders,
    broadcasts,
    retention,
    scheduler: null,
    translator,
    metrics,
    webhookSecrets,
    telegram,
    sms,
    server: null,
    async start() {
      const server = createHttpServer(app, config.http);
      server.listen(config.port, config.host);
      await new Promise<void>((resolve, reject) => {
        server.once('listening', resolve);
        server.once('error', reject);
      });
      tasdeed.server = server;
      if (fleet) {
        await fleet.start();
        const gates = [...(telegram?.gates ?? []), ...(sms?.gates ?? [])];
        fleet.onChange((n) => {
          for (const gate of gates) gate.setShare(n);
          logger.info({ instances: n }, 'rate limits split between instances');
        });
      }
      dispatcher.start();
      await telegram?.start();
      sms?.start();
      reconcileTimer = setInterval(() => void reconcile(), options.reconcileEveryMs ?? 30_000);
      reconcileTimer.unref();
      void reconcile();
      await broadcasts.resume();
      if (options.scheduler ?? true) {
        tasdeed.scheduler = startScheduler({
          timezone: config.timezone,
          logger: logger.child({ component: 'jobs' }),
          jobs: [
            {
              name: 'reminders',
              cron: '0 * * * *',
              runAtStart: true,
              run: (signal) => reminders.tick(signal),
            },
            {
              // At night, and at start to catch up on a day missed; once a day whatever the
              // number of ticks or instances (see RetentionService).
              name: 'retention',
              cron: '30 3 * * *',
              runAtStart: true,
              run: (signal) => retention.tick(signal),
            },
            {
              name: 'recovery-probe',
              cron: '* * * * *',
              run: async () => {
                const result = await probeWatched(
                  store,
                  clock,
                  (kind, id) => (kind === 'biller' ? bills.probe(id) : payments.probeChannel(id)),
                  {
                    onError: (error, target) =>
                      logger.error({ err: error, target }, 'recovery probe failed'),
                  },
                );
                if (result.announced > 0) wake();
                return result;
              },
            },
          ],
        });
      }
      const address = server.address();
      return typeof address === 'object' && address ? address.port : config.port;
    },
    async stop() {
      if (reconcileTimer) clearInterval(reconcileTimer);
      await tasdeed.scheduler?.stop();
      await broadcasts.stop();
      const server = tasdeed.server;
      if (server) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      }
      await telegram?.stop();
      await sms?.stop();
      await dispatcher.stop();
      await fleet?.stop();
      for (const channel of channels.values()) channel.close?.();
      await database.close();
    },
  };
  return tasdeed;
}
