/**
 * What the bot's features need: the core's services and the way out (the outbox). Features
 * never send messages themselves; they enqueue replies for the identity and wake the
 * dispatcher, so a reply survives a crash and obeys the outbox's retry and opt-out rules.
 */
import type { BroadcastService } from '../core/broadcasts/broadcast.service.js';
import type { Catalogue } from '../core/catalogue.js';
import type { ConversationService } from '../core/conversation/conversation.service.js';
import type { Translator } from '../core/i18n/translator.js';
import type { Clock } from '../core/ports/clock.port.js';
import type { Store } from '../core/ports/store.port.js';
import type { Logger } from '../observability/logger.js';

export interface BotDeps {
  store: Store;
  conversation: ConversationService;
  /** Staff /broadcast: preview, send, progress, cancel. */
  broadcasts: BroadcastService;
  translator: Translator;
  catalogue: Catalogue;
  clock: Clock;
  logger: Logger;
  /** Telegram user ids allowed staff commands. */
  staffIds: readonly number[];
  /** Tells the outbox dispatcher that replies are waiting. */
  wake: () => void;
}
