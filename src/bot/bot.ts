/**
 * The Telegram front on grammY: the features, composed in one visible order ("unhandled"
 * last), the durable update inbox they are fed from, the outbox sender, and the start-up of
 * polling or webhook mode (docs/design.md §3). Handlers stay thin: the conversation lives in the core.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { Api, Bot, type Context } from 'grammy';
import type { TelegramConfig } from '../config/env.js';
import type { Language } from '../core/domain.js';
import type { MessageSender } from '../core/outbox/message.handler.js';
import type { BotDeps } from './deps.js';
import { broadcastFeature } from './features/broadcast.feature.js';
import { buttonsFeature } from './features/buttons.feature.js';
import { commandsFeature } from './features/commands.feature.js';
import { contactFeature } from './features/contact.feature.js';
import { coverageFeature } from './features/coverage.feature.js';
import { languageFeature } from './features/language.feature.js';
import { privateOnlyFeature } from './features/private-only.feature.js';
import { remindersFeature } from './features/reminders.feature.js';
import { startFeature } from './features/start.feature.js';
import { unhandledFeature } from './features/unhandled.feature.js';
import type { RateGate } from '../core/outbox/rate-gate.js';
import { telegramGates, telegramSender } from './telegram.sender.js';
import { identityOf } from './turn.js';
import { TelegramUpdateInbox, type RawUpdate } from './update-inbox.js';

export const WEBHOOK_PATH = '/telegram/webhook';
const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
const COMMANDS = ['start', 'follow', 'bills', 'accounts', 'reminders', 'language', 'help', 'stop'];

export interface TelegramBot {
  readonly bot: Bot;
  readonly inbox: TelegramUpdateInbox;
  /** The outbox's sender for channel 'telegram'. */
  readonly sender: MessageSender;
  /** Its rate gates (several instances split them: see FleetMembership). */
  readonly gates: RateGate[];
  /** Polling: deleteWebhook, then long polling. Webhook: setWebhook. Then the worker. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface TelegramBotOptions extends BotDeps {
  config: TelegramConfig;
  publicUrl: string;
  /** TELEGRAM_BULK_PER_SECOND. */
  bulkPerSecond: number;
}

/** Builds the bot: features in the order they are tried. */
export function composeBot(bot: Bot, deps: BotDeps): void {
  // Groups and channels stop here, before anything below records an identity for them.
  bot.use(privateOnlyFeature(deps));
  // A slash command or a button says nothing about the language: the first contact takes the
  // client's language (free text is left to the conversation, which reads its script).
  bot.use(async (ctx: Context, next) => {
    if (ctx.callbackQuery || ctx.message?.text?.startsWith('/')) await identityOf(deps, ctx);
    await next();
  });
  bot.use(coverageFeature(deps)); // staff only; others fall through to "unhandled"
  bot.use(broadcastFeature(deps)); // staff only, likewise
  bot.use(startFeature(deps));
  bot.use(commandsFeature(deps));
  bot.use(remindersFeature(deps));
  bot.use(languageFeature(deps));
  bot.use(contactFeature(deps));
  bot.use(buttonsFeature(deps));
  bot.use(unhandledFeature(deps));
}

export function createTelegramBot(options: TelegramBotOptions): TelegramBot {
  const { config, logger } = options;
  const bot = new Bot(config.token, { client: { apiRoot: config.apiRoot } });
  // Calls made here (answers, edits, setWebhook, getUpdates) wait out a 429 and retry a 5xx;
  // messages go through the outbox's own Api, whose retries are recorded on the outbox row.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60 }));
  composeBot(bot, options);
  const gates = telegramGates(options.bulkPerSecond);
  const sender = telegramSender(new Api(config.token, { apiRoot: config.apiRoot }), gates);
  const inbox = new TelegramUpdateInbox(
    options.store,
    (update: RawUpdate) => bot.handleUpdate(update),
    options.clock,
    logger,
  );

  const abort = new AbortController();
  let polling: Promise<void> | null = null;
  let booting: Promise<void> | null = null;

  const describeCommands = async () => {
    for (const language of ['ar', 'en'] as Language[]) {
      const commands = COMMANDS.map((command) => ({
        command,
        description: options.translator.render(
          { key: `tg-cmd-${command}` },
          { language, medium: 'telegram' },
        ),
      }));
      await bot.api.setMyCommands(commands, language === 'ar' ? {} : { language_code: language });
    }
  };

  const poll = async () => {
    let offset = 0;
    while (!abort.signal.aborted) {
      try {
        const updates = await bot.api.getUpdates(
          { offset, timeout: 25, allowed_updates: [...ALLOWED_UPDATES] },
          // grammY types its signal with the abort-controller shim; Node's is the same at run time.
          abort.signal as Parameters<typeof bot.api.getUpdates>[1],
        );
        // Recorded before the offset moves on: an update is confirmed only once it is durable.
        for (const update of updates) {
          await inbox.record(update as unknown as RawUpdate);
          offset = update.update_id + 1;
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        logger.warn({ err: error }, 'telegram polling failed; retrying');
        await sleep(2_000, abort.signal);
      }
    }
  };

  const boot = async () => {
    for (let attempt = 1; !abort.signal.aborted; attempt++) {
      try {
        await bot.init();
        if (config.mode === 'webhook') {
          await bot.api.setWebhook(`${options.publicUrl}${WEBHOOK_PATH}`, {
            secret_token: config.webhookSecret,
            allowed_updates: [...ALLOWED_UPDATES],
          });
        } else {
          // Polling and a webhook exclude each other; the webhook is removed first.
          await bot.api.deleteWebhook();
        }
        await describeCommands().catch((error: unknown) =>
          logger.warn({ err: error }, 'could not set the bot commands'),
        );
        inbox.start();
        if (config.mode === 'polling') polling = poll();
        logger.info({ mode: config.mode, bot: bot.botInfo.username }, 'telegram bot started');
        return;
      } catch (error) {
        // Telegram unreachable at start must not stop the rest of Tasdeed: keep trying.
        logger.error({ err: error, attempt }, 'telegram bot could not start; retrying');
        await sleep(Math.min(30_000, 1_000 * 2 ** attempt), abort.signal);
      }
    }
  };

  return {
    bot,
    inbox,
    sender,
    gates: [gates.bulk],
    async start() {
      booting = boot();
      // The first attempt is awaited only briefly: start-up never hangs on Telegram.
      await Promise.race([booting, sleep(5_000, abort.signal)]);
    },
    async stop() {
      abort.abort();
      await booting;
      await polling;
      await inbox.stop();
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
