/**
 * A local stand-in for the Telegram Bot API (`/bot<token>/<method>`, JSON or form bodies),
 * answering as Telegram does: `{ ok: true, result }` or `{ ok: false, error_code, description,
 * parameters? }`. It records every call, serves the updates a test pushes to long polling, and
 * can be told to refuse the next call(s) to a chat, or to any chat, with 403 (blocked,
 * deactivated), 400 (chat not found, or a description of the test's), 429 (retry_after) or 502.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WAIT_MS } from './wait.js';

export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  at: number;
  /** performance.now() on arrival: the clock the senders' rate gates use (same process). */
  mono: number;
}

export type Refusal =
  | { kind: 'blocked' }
  | { kind: 'deactivated' }
  | { kind: 'chat-not-found' }
  | { kind: 'too-many'; retryAfter: number }
  | { kind: 'server-error' }
  /** A 400 with this description (Telegram's texts may quote what it refused). */
  | { kind: 'bad-request'; description: string };

export interface TgUser {
  id: number;
  is_bot: false;
  first_name: string;
  language_code?: string;
}

/** Any Bot API update, as the fake builds and serves it. */
export type TgUpdate = { update_id: number } & Record<string, unknown>;

const BOT_USER = {
  id: 7_000_000_001,
  is_bot: true,
  first_name: 'Tasdeed',
  username: 'tasdeed_test_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

/** The one kind of link answerCallbackQuery takes from this bot: t.me/<bot>?start=<parameter>. */
const BOT_START_LINK = new RegExp(
  `^https://t\\.me/${BOT_USER.username}\\?start=[A-Za-z0-9_-]{1,64}$`,
);

/** Methods that address a chat and so can be refused per chat. */
const CHAT_METHODS = new Set(['sendMessage', 'editMessageText', 'editMessageReplyMarkup']);

export class FakeTelegram {
  readonly token: string;
  readonly calls: RecordedCall[] = [];
  webhook: { url: string; secretToken: string | null } | null = null;
  private server: Server | null = null;
  private port = 0;
  private nextUpdateId = 100_000;
  private nextMessageId = 1;
  private queue: TgUpdate[] = [];
  /** Updates to serve again although confirmed (see redeliver). */
  private replays: TgUpdate[] = [];
  /** Replays served by the last getUpdates: confirmed only by the next call. */
  private replaysServed = 0;
  private pollers: Array<() => void> = [];
  private readonly refusals = new Map<string, Refusal[]>();
  /** Refusals for the next chat-addressed calls, whichever chat they address. */
  private readonly anyRefusals: Refusal[] = [];
  private readonly listeners = new Set<() => void>();
  private closed = false;

  constructor(token = '123456:TEST-token_abcdefghijklmnopqrstuvwxyz') {
    this.token = token;
  }

  /** The Bot API base URL to give the bot (`TELEGRAM_API_ROOT`). */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.pollers.splice(0)) wake();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Refuse the next `count` chat-addressed calls to `chatId` this way. */
  refuseNext(chatId: number | string, refusal: Refusal, count = 1): void {
    const list = this.refusals.get(String(chatId)) ?? [];
    for (let i = 0; i < count; i++) list.push(refusal);
    this.refusals.set(String(chatId), list);
  }

  /** Refuse the next `count` chat-addressed calls, to whichever chat, this way. */
  refuseNextAny(refusal: Refusal, count = 1): void {
    for (let i = 0; i < count; i++) this.anyRefusals.push(refusal);
  }

  /** Queues an update for getUpdates (and returns it, with its update_id). */
  push(update: Omit<TgUpdate, 'update_id'> & { update_id?: number }): TgUpdate {
    const full = { ...update, update_id: update.update_id ?? this.nextUpdateId++ } as TgUpdate;
    this.queue.push(full);
    for (const wake of this.pollers.splice(0)) wake();
    return full;
  }

  /**
   * Serves an update again at the next getUpdates although its offset was confirmed, as
   * Telegram does when the confirmation was lost (the bot died before its next call).
   */
  redeliver(update: TgUpdate): void {
    this.replays.push(update);
    for (const wake of this.pollers.splice(0)) wake();
  }

  /**
   * Updates pushed (or redelivered) that the bot has not confirmed yet: it confirms a batch by
   * asking for the next one, after recording it.
   */
  get unconfirmed(): number {
    return this.queue.length + this.replays.length + this.replaysServed;
  }

  /** A new update id (for updates a test posts to the webhook itself). */
  updateId(): number {
    return this.nextUpdateId++;
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The sendMessage calls addressed to a chat, in order. */
  sentTo(chatId: number | string): Array<Record<string, unknown> & { text: string }> {
    return this.calls
      .filter((c) => c.method === 'sendMessage' && String(c.params.chat_id) === String(chatId))
      .map((c) => c.params as Record<string, unknown> & { text: string });
  }

  /** Resolves once `count` messages have been sent to the chat (successful calls only). */
  async waitForSent(
    chatId: number | string,
    count: number,
    timeoutMs = WAIT_MS,
  ): Promise<Array<Record<string, unknown> & { text: string }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sent = this.delivered(chatId);
      if (sent.length >= count) return sent;
      if (Date.now() > deadline) {
        throw new Error(
          `chat ${chatId} got ${sent.length} messages, expected ${count}: ${JSON.stringify(sent.map((m) => m.text))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 50);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.listeners.add(done);
      });
    }
  }

  /** Messages that reached the chat (sendMessage calls answered ok). */
  delivered(chatId: number | string): Array<Record<string, unknown> & { text: string }> {
    return this.calls
      .filter(
        (c) =>
          c.method === 'sendMessage' &&
          String(c.params.chat_id) === String(chatId) &&
          c.params.__ok === true,
      )
      .map((c) => c.params as Record<string, unknown> & { text: string });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '').split('?')[0] ?? '');
    const body = await readBody(req);
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (!m) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
    if (m[1] !== this.token)
      return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = m[2] ?? '';
    const params = parseParams(req.headers['content-type'] ?? '', body);
    const call: RecordedCall = { method, params, at: Date.now(), mono: performance.now() };
    this.calls.push(call);
    try {
      const outcome = await this.answer(method, params);
      if (outcome.ok) call.params.__ok = true;
      reply(outcome.ok ? 200 : (outcome.error_code as number), outcome);
    } finally {
      for (const l of [...this.listeners]) {
        this.listeners.delete(l);
        l();
      }
    }
  }

  private async answer(
    method: string,
    params: Record<string, unknown>,
  ): Promise<{ ok: true; result: unknown } | ({ ok: false } & Record<string, unknown>)> {
    if (CHAT_METHODS.has(method)) {
      const refusal =
        this.refusals.get(String(params.chat_id))?.shift() ?? this.anyRefusals.shift();
      if (refusal) return refusalBody(refusal);
    }
    switch (method) {
      case 'getMe':
        return { ok: true, result: BOT_USER };
      case 'sendMessage':
        return {
          ok: true,
          result: {
            message_id: this.nextMessageId++,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(params.chat_id), type: 'private' },
            from: BOT_USER,
            text: params.text,
            ...(params.reply_markup ? { reply_markup: params.reply_markup } : {}),
          },
        };
      case 'editMessageText':
      case 'editMessageReplyMarkup':
        return {
          ok: true,
          result: {
            message_id: Number(params.message_id),
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(params.chat_id), type: 'private' },
            from: BOT_USER,
            text: params.text ?? '',
          },
        };
      case 'answerCallbackQuery':
        // A bot that offers no game may only send the user to its own chat, with a start
        // parameter (the Bot API's answerCallbackQuery `url`); Telegram refuses any other link.
        if (
          params.url !== undefined &&
          !(typeof params.url === 'string' && BOT_START_LINK.test(params.url))
        )
          return { ok: false, error_code: 400, description: 'Bad Request: URL_INVALID' };
        return { ok: true, result: true };
      case 'setMyCommands':
      case 'deleteMyCommands':
        return { ok: true, result: true };
      case 'setWebhook':
        this.webhook = {
          url: String(params.url),
          secretToken: typeof params.secret_token === 'string' ? params.secret_token : null,
        };
        return { ok: true, result: true };
      case 'deleteWebhook':
        this.webhook = null;
        if (params.drop_pending_updates === true) this.queue = [];
        return { ok: true, result: true };
      case 'getWebhookInfo':
        return {
          ok: true,
          result: { url: this.webhook?.url ?? '', pending_update_count: this.queue.length },
        };
      case 'getUpdates':
        return { ok: true, result: await this.poll(params) };
      default:
        return { ok: false, error_code: 404, description: 'Not Found: method not found' };
    }
  }

  private async poll(params: Record<string, unknown>): Promise<TgUpdate[]> {
    if (this.webhook) {
      return Promise.reject(new Error('getUpdates while a webhook is set'));
    }
    const offset = typeof params.offset === 'number' ? params.offset : 0;
    // Confirmed updates are forgotten, as Telegram does.
    this.queue = this.queue.filter((u) => u.update_id >= offset);
    this.replaysServed = 0;
    const limit = typeof params.limit === 'number' ? params.limit : 100;
    const timeoutS = Math.min(typeof params.timeout === 'number' ? params.timeout : 0, 5);
    const deadline = Date.now() + timeoutS * 1000;
    while (
      this.queue.length === 0 &&
      this.replays.length === 0 &&
      !this.closed &&
      Date.now() < deadline
    ) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.pollers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (this.replays.length > 0) {
      const replays = this.replays.splice(0);
      this.replaysServed = replays.length;
      return replays;
    }
    return this.queue.slice(0, limit);
  }
}

function refusalBody(r: Refusal): { ok: false } & Record<string, unknown> {
  switch (r.kind) {
    case 'blocked':
      return { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' };
    case 'deactivated':
      return { ok: false, error_code: 403, description: 'Forbidden: user is deactivated' };
    case 'chat-not-found':
      return { ok: false, error_code: 400, description: 'Bad Request: chat not found' };
    case 'too-many':
      return {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${r.retryAfter}`,
        parameters: { retry_after: r.retryAfter },
      };
    case 'server-error':
      return { ok: false, error_code: 502, description: 'Bad Gateway' };
    case 'bad-request':
      return { ok: false, error_code: 400, description: r.description };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseParams(contentType: string, body: string): Record<string, unknown> {
  if (body.length === 0) return {};
  if (contentType.includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  if (contentType.includes('application/x-www-form-urlencoded')) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(body)) out[k] = parseFormValue(v);
    return out;
  }
  throw new Error(`unsupported content type ${contentType}`);
}

/** Form values are strings; the Bot API reads numbers, booleans and JSON objects from them. */
function parseFormValue(v: string): unknown {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

// ---- Update builders -------------------------------------------------------------------

let messageIds = 5_000;

export function tgUser(id: number, languageCode = 'ar'): TgUser {
  return { id, is_bot: false, first_name: `User${id}`, language_code: languageCode };
}

function privateChat(id: number) {
  return { id, type: 'private', first_name: `User${id}` };
}

/**
 * A text message from user `chatId` in their private chat (commands get their entity), from a
 * client set to `languageCode`.
 */
export function textUpdate(
  chatId: number,
  text: string,
  languageCode = 'ar',
): Omit<TgUpdate, 'update_id'> {
  const command = /^\/[a-z_]+/.exec(text);
  return {
    message: {
      message_id: messageIds++,
      date: Math.floor(Date.now() / 1000),
      chat: privateChat(chatId),
      from: tgUser(chatId, languageCode),
      text,
      ...(command
        ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] }
        : {}),
    },
  };
}

/** A button press on a bot message sent `messageAgeS` seconds ago. */
export function callbackUpdate(
  chatId: number,
  data: string,
  options: { messageAgeS?: number; messageId?: number; languageCode?: string } = {},
): Omit<TgUpdate, 'update_id'> {
  return {
    callback_query: {
      id: `cq-${messageIds++}`,
      from: tgUser(chatId, options.languageCode),
      chat_instance: `ci-${chatId}`,
      data,
      message: {
        message_id: options.messageId ?? messageIds++,
        date: Math.floor(Date.now() / 1000) - (options.messageAgeS ?? 5),
        chat: privateChat(chatId),
        from: BOT_USER,
        text: '…',
      },
    },
  };
}

/** A shared contact; `userId` is whose contact it is (the sender's own when equal to chatId). */
export function contactUpdate(
  chatId: number,
  phoneNumber: string,
  userId: number = chatId,
  languageCode = 'ar',
): Omit<TgUpdate, 'update_id'> {
  return {
    message: {
      message_id: messageIds++,
      date: Math.floor(Date.now() / 1000),
      chat: privateChat(chatId),
      from: tgUser(chatId, languageCode),
      contact: { phone_number: phoneNumber, first_name: 'Someone', user_id: userId },
    },
  };
}

/** A group, supergroup or channel (Telegram gives them negative ids). */
export interface TgGroupChat {
  id: number;
  type: 'group' | 'supergroup' | 'channel';
}

function groupChat(chat: TgGroupChat) {
  return { ...chat, title: `Chat ${chat.id}` };
}

/** A text message from user `fromId` in a group or supergroup (commands get their entity). */
export function groupTextUpdate(
  chat: TgGroupChat,
  fromId: number,
  text: string,
  languageCode = 'ar',
): Omit<TgUpdate, 'update_id'> {
  const command = /^\/[a-z_]+/.exec(text);
  return {
    message: {
      message_id: messageIds++,
      date: Math.floor(Date.now() / 1000),
      chat: groupChat(chat),
      from: tgUser(fromId, languageCode),
      text,
      ...(command
        ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] }
        : {}),
    },
  };
}

/** A press by user `fromId` of a button on a bot message in a group (5 seconds old). */
export function groupCallbackUpdate(
  chat: TgGroupChat,
  fromId: number,
  data: string,
): Omit<TgUpdate, 'update_id'> {
  return {
    callback_query: {
      id: `cq-${messageIds++}`,
      from: tgUser(fromId),
      chat_instance: `ci-${chat.id}`,
      data,
      message: {
        message_id: messageIds++,
        date: Math.floor(Date.now() / 1000) - 5,
        chat: groupChat(chat),
        from: BOT_USER,
        text: '…',
      },
    },
  };
}

/**
 * A post in a channel the bot administers (no sender: the channel speaks; commands get their
 * entity, and grammY's command handlers take channel posts too).
 */
export function channelPostUpdate(chatId: number, text: string): Omit<TgUpdate, 'update_id'> {
  const command = /^\/[a-z_]+/.exec(text);
  return {
    channel_post: {
      message_id: messageIds++,
      date: Math.floor(Date.now() / 1000),
      chat: groupChat({ id: chatId, type: 'channel' }),
      text,
      ...(command
        ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] }
        : {}),
    },
  };
}
