/**
 * Tasdeed with Telegram on, against the fake Bot API server: a chat is driven through the
 * webhook (or the fake's getUpdates queue in polling mode) and its replies read from the
 * sendMessage calls the fake recorded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Catalogue } from '../../src/core/catalogue.js';
import {
  callbackUpdate,
  contactUpdate,
  FakeTelegram,
  textUpdate,
  type TgUpdate,
} from './fake-telegram.server.js';
import {
  outboxIdle,
  outboxItemsOf,
  removeTestDir,
  startTasdeed,
  waitFor,
  type Running,
} from './harness.js';
import { WAIT_MS } from './wait.js';

export const WEBHOOK_SECRET = 'test-webhook-secret_0123456789';

export interface TelegramRig {
  t: Running;
  fake: FakeTelegram;
  mode: 'webhook' | 'polling';
  /** Ids of the callback queries sent to the bot (each must be answered). */
  callbacks: Set<string>;
  close(): Promise<void>;
}

/** A rig startTelegram() made: it can restart its Tasdeed. */
export interface RestartableRig extends TelegramRig {
  /** Stops this Tasdeed and starts another on the same database, with the same fake. */
  restart(): Promise<void>;
}

export async function startTelegram(
  options: {
    mode?: 'webhook' | 'polling';
    staffIds?: number[];
    catalogue?: Catalogue;
    env?: Record<string, string>;
  } = {},
): Promise<RestartableRig> {
  const fake = await new FakeTelegram().start();
  const mode = options.mode ?? 'webhook';
  // A directory of its own, so that a restart finds the same database.
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-telegram-'));
  const start = () =>
    startTasdeed({
      dir,
      ...(options.catalogue ? { catalogue: options.catalogue } : {}),
      env: {
        TELEGRAM_BOT_TOKEN: fake.token,
        TELEGRAM_API_ROOT: fake.apiRoot,
        TELEGRAM_MODE: mode,
        ...(mode === 'webhook' ? { TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET } : {}),
        ...(options.staffIds ? { TELEGRAM_STAFF_IDS: options.staffIds.join(',') } : {}),
        ...options.env,
      },
    });
  let t: Running;
  try {
    t = await start();
  } catch (error) {
    await fake.close();
    await removeTestDir(dir);
    throw error;
  }
  const rig: RestartableRig = {
    t,
    fake,
    mode,
    callbacks: new Set(),
    async restart() {
      await rig.t.close();
      rig.t = await start();
    },
    async close() {
      try {
        await rig.t.close();
        await fake.close();
      } finally {
        await removeTestDir(dir);
      }
    },
  };
  return rig;
}

/**
 * Waits until everything sent to the bot so far has been acted on: (polling) the bot has
 * confirmed every update the fake holds, the update inbox has nothing left to process, and no
 * reply to `chatId` is waiting in the outbox or being sent. Then "nothing more was sent" can be
 * asserted without a fixed sleep.
 */
export async function settled(rig: TelegramRig, chatId?: number): Promise<void> {
  const store = rig.t.tasdeed.store;
  await waitFor('the bot to confirm every update', () => rig.fake.unconfirmed === 0);
  await waitFor(
    'the update inbox to be empty',
    async () => (await store.unprocessedTelegramUpdates(1)).length === 0,
  );
  if (chatId === undefined) return;
  const identity = await store.findIdentity('telegram', String(chatId));
  if (identity) await outboxIdle(rig.t, identity.id);
}

/**
 * After a button press was delivered twice: it was answered once, followed the account once,
 * queued one reply and sent one message to the chat.
 */
export async function assertPressActedOnce(
  rig: TelegramRig,
  chatId: number,
  queryId: string,
  followed: string,
): Promise<void> {
  await settled(rig, chatId);
  const answers = rig.fake
    .callsOf('answerCallbackQuery')
    .filter((c) => c.params.callback_query_id === queryId);
  assert.equal(answers.length, 1, 'the press is answered once');
  const identity = await rig.t.tasdeed.store.findIdentity('telegram', String(chatId));
  assert.ok(identity, 'the chat has an identity');
  const follows = await rig.t.tasdeed.store.followsOf(identity.subscriberId);
  assert.deepEqual(
    follows.map((f) => `${f.billerId} ${f.account}`),
    [followed],
  );
  assert.equal((await outboxItemsOf(rig.t, identity.id)).length, 1, 'one reply queued');
  assert.equal(rig.fake.sentTo(chatId).length, 1);
}

/** Posts an update to the webhook as Telegram does; returns the HTTP status. */
export async function postUpdate(
  rig: TelegramRig,
  update: TgUpdate,
  secret: string | null = WEBHOOK_SECRET,
): Promise<number> {
  const res = await fetch(`${rig.t.url}/telegram/webhook`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(secret !== null ? { 'X-Telegram-Bot-Api-Secret-Token': secret } : {}),
    },
    body: JSON.stringify(update),
  });
  await res.arrayBuffer();
  return res.status;
}

export type Sent = Record<string, unknown> & { text: string };

/** One person in a private chat with the bot. */
export class TelegramUser {
  private seen = 0;

  /** `languageCode`: what the person's Telegram client is set to. */
  constructor(
    readonly rig: TelegramRig,
    readonly chatId: number,
    readonly languageCode = 'ar',
  ) {}

  /** A text message from this person, not sent yet. */
  text(text: string): TgUpdate {
    return {
      ...textUpdate(this.chatId, text, this.languageCode),
      update_id: this.rig.fake.updateId(),
    };
  }

  /** A press of a button with this data on a message `messageAgeS` old, not sent yet. */
  callback(data: string, messageAgeS = 5): TgUpdate {
    return {
      ...callbackUpdate(this.chatId, data, { messageAgeS, languageCode: this.languageCode }),
      update_id: this.rig.fake.updateId(),
    };
  }

  /** Sends a message and waits for the bot's next message to this chat. */
  async say(text: string): Promise<Sent> {
    return this.deliver(this.text(text));
  }

  /** Presses a button (its callback data) and waits for the reply message. */
  async press(data: string, messageAgeS = 5): Promise<Sent> {
    return this.deliver(this.callback(data, messageAgeS));
  }

  async shareContact(phone: string, userId = this.chatId): Promise<Sent> {
    return this.deliver({
      ...contactUpdate(this.chatId, phone, userId, this.languageCode),
      update_id: this.rig.fake.updateId(),
    });
  }

  /** Sends an update without waiting for a reply. */
  async send(update: TgUpdate): Promise<void> {
    const query = update.callback_query as { id?: string } | undefined;
    if (query?.id) this.rig.callbacks.add(query.id);
    if (this.rig.mode === 'polling') {
      this.rig.fake.push(update);
      return;
    }
    const status = await postUpdate(this.rig, update);
    if (status !== 200) throw new Error(`webhook answered ${status}`);
  }

  /** Waits for the next message to this chat (after those already read). */
  async next(timeoutMs = WAIT_MS): Promise<Sent> {
    const sent = await this.rig.fake.waitForSent(this.chatId, this.seen + 1, timeoutMs);
    const message = sent[this.seen];
    this.seen += 1;
    if (!message) throw new Error('no message');
    return message;
  }

  /** Marks everything delivered so far as read. */
  skipAll(): void {
    this.seen = this.rig.fake.delivered(this.chatId).length;
  }

  private async deliver(update: TgUpdate): Promise<Sent> {
    await this.send(update);
    return this.next();
  }
}

/** The callback data of a message's inline buttons, in order. */
export function buttons(message: Sent): string[] {
  const markup = message.reply_markup as
    { inline_keyboard?: Array<Array<{ callback_data?: string }>> } | undefined;
  return (markup?.inline_keyboard ?? []).flat().map((b) => b.callback_data ?? '');
}

/** The labels of a message's inline buttons, in order. */
export function labels(message: Sent): string[] {
  const markup = message.reply_markup as
    { inline_keyboard?: Array<Array<{ text: string }>> } | undefined;
  return (markup?.inline_keyboard ?? []).flat().map((b) => b.text);
}

/** The callback query id of a button-press update (what answerCallbackQuery names). */
export function queryIdOf(update: object): string {
  return (update as { callback_query: { id: string } }).callback_query.id;
}

/** Removes Fluent's isolation marks, to compare text in assertions. */
export function plain(text: string): string {
  return text.replace(/[\u2068\u2069]/g, '');
}
