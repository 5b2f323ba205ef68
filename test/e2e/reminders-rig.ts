/**
 * A Tasdeed for reminder tests: a fake clock, the cron jobs off (the test ticks), the database
 * of a directory that survives restarts (its SQLite file, or its PostgreSQL database), Telegram through the local Bot API stand-in and the biller
 * through the local biller stand-in, so that a bill can change between ticks.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { connectTo, type Connection } from '../support/db.js';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import { FakeTelegram } from '../support/fake-telegram.server.js';
import {
  FakeClock,
  httpCatalogue,
  removeTestDir,
  startTasdeed,
  waitFor,
  type Running,
} from '../support/harness.js';
import { TelegramUser, WEBHOOK_SECRET, type TelegramRig } from '../support/telegram.js';

export const HOUR = 3_600_000;

/** The local-biller side shared by a test file: one biller, one payment channel, one Bot API. */
export interface Outside {
  biller: FakeBiller;
  channel: FakePaymentChannel;
  telegram: FakeTelegram;
  close(): Promise<void>;
}

export async function startOutside(): Promise<Outside> {
  const biller = await startFakeBiller();
  const channel = await startFakePaymentChannel({ webhookSecret: 'whsec-reminders-0123456789' });
  const telegram = await new FakeTelegram().start();
  return {
    biller,
    channel,
    telegram,
    async close() {
      await telegram.close();
      await biller.close();
      await channel.close();
    },
  };
}

/** What an instance needs besides its clock (plain data: a child process gets it as JSON). */
export interface InstancePlace {
  dir: string;
  billerUrl: string;
  paymentUrl: string;
  telegramToken: string;
  telegramApiRoot: string;
  env: Record<string, string>;
}

/** Starts Tasdeed on the place's database, Telegram in webhook mode, the biller over HTTP. */
export function startReminderTasdeed(
  options: InstancePlace & { clock: FakeClock; scheduler: boolean },
): Promise<Running> {
  return startTasdeed({
    dir: options.dir,
    clock: options.clock,
    scheduler: options.scheduler,
    catalogue: httpCatalogue({
      billerUrl: options.billerUrl,
      paymentUrl: options.paymentUrl,
      webhookSecret: 'whsec-reminders-0123456789',
      billerTimeoutMs: 1_000,
    }),
    env: {
      TELEGRAM_BOT_TOKEN: options.telegramToken,
      TELEGRAM_API_ROOT: options.telegramApiRoot,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...options.env,
    },
  });
}

export interface ReminderRow {
  id: number;
  dedupeKey: string | null;
  identityId: string | null;
  status: string;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  account: string;
  offset: number;
}

export class ReminderRig {
  /** The instances running now (a second one shares the directory and the clock). */
  readonly running: Running[] = [];
  private db: Connection | null = null;
  /** The instances' database, known once one started (it outlives them). */
  private databaseUrl: string | null = null;

  constructor(
    readonly outside: Outside,
    readonly clock: FakeClock,
    readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** The first running instance. */
  get t(): Running {
    const t = this.running[0];
    if (!t) throw new Error('no Tasdeed running');
    return t;
  }

  /** Starts an instance on the rig's directory; `scheduler` on runs the cron jobs (and the at-start tick). */
  async start(options: { scheduler?: boolean } = {}): Promise<Running> {
    const t = await startReminderTasdeed({
      ...this.place(),
      clock: this.clock,
      scheduler: options.scheduler ?? false,
    });
    this.running.push(t);
    this.databaseUrl = t.databaseUrl;
    return t;
  }

  /** Where an instance of this rig finds its database and the outside world. */
  place(): InstancePlace {
    const { biller, channel, telegram } = this.outside;
    return {
      dir: this.dir,
      billerUrl: biller.url,
      paymentUrl: channel.url,
      telegramToken: telegram.token,
      telegramApiRoot: telegram.apiRoot,
      env: this.env,
    };
  }

  /** Stops every running instance (a clean shutdown: what was in flight finishes). */
  async stop(): Promise<void> {
    for (const t of this.running.splice(0)) await t.close();
  }

  async close(): Promise<void> {
    await this.stop();
    await this.db?.close();
    this.db = null;
    await removeTestDir(this.dir);
  }

  /** A Telegram user talking to the first running instance through its webhook. */
  user(chatId: number): TelegramUser {
    // The instance of the moment: a user outlives a restart.
    const current = (): Running => this.t;
    const tg: TelegramRig = {
      get t() {
        return current();
      },
      fake: this.outside.telegram,
      mode: 'webhook',
      callbacks: new Set(),
      close: () => Promise.resolve(),
    };
    return new TelegramUser(tg, chatId);
  }

  /** Sets the clock to a UTC instant (never backwards). */
  at(iso: string): void {
    const target = new Date(iso).getTime();
    const now = this.clock.now().getTime();
    if (target < now)
      throw new Error(`the clock would go back from ${new Date(now).toISOString()}`);
    this.clock.advance(target - now);
  }

  /** The test's own connection to the instances' database. */
  private get client(): PrismaClient {
    if (!this.databaseUrl) throw new Error('no Tasdeed started yet');
    this.db ??= connectTo(this.databaseUrl);
    return this.db.client;
  }

  /** The runs of the reminders job, by slot. */
  async jobRuns(): Promise<Array<{ slot: string; owner: string; finished: boolean }>> {
    const runs = await this.client.jobRun.findMany({
      where: { job: 'reminders' },
      orderBy: { slot: 'asc' },
    });
    return runs.map((r) => ({ slot: r.slot, owner: r.owner, finished: r.finishedAt !== null }));
  }

  /** The reminder rows, read on a connection of the test's own. */
  async rows(): Promise<ReminderRow[]> {
    const rows = await this.client.outboxItem.findMany({
      where: { kind: 'reminder' },
      orderBy: { id: 'asc' },
    });
    return rows.map((r) => {
      const p = JSON.parse(r.payload) as { account: string; offset: number };
      return {
        id: r.id,
        dedupeKey: r.dedupeKey,
        identityId: r.identityId,
        status: r.status,
        attempts: r.attempts,
        nextAttemptAt: r.nextAttemptAt,
        lastError: r.lastError,
        account: p.account,
        offset: p.offset,
      };
    });
  }

  /**
   * Lets every instance's dispatcher handle what is due now, then waits until no reminder is
   * in flight: afterwards the Bot API stand-in has seen every call those reminders made.
   */
  async settle(): Promise<ReminderRow[]> {
    await Promise.all(this.running.map((t) => t.tasdeed.dispatcher.drain()));
    const now = this.clock.now().getTime();
    return waitFor('reminders settled', async () => {
      const rows = await this.rows();
      const busy = rows.some(
        (r) => r.status === 'leased' || (r.status === 'queued' && r.nextAttemptAt.getTime() <= now),
      );
      return busy ? null : rows;
    });
  }
}

/** A rig with its own clock (starting at `startIso`) and directory; call start() next. */
export function reminderRig(
  outside: Outside,
  startIso: string,
  env: Record<string, string> = {},
): ReminderRig {
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-reminders-'));
  return new ReminderRig(outside, new FakeClock(new Date(startIso)), dir, env);
}

let accountSeq = 4_000_000;

/** A new account at the biller stand-in with one unpaid bill due on `dueDate`. */
export function billerAccount(
  outside: Outside,
  dueDate: string,
): { account: string; billId: string } {
  accountSeq += 1;
  const account = String(accountSeq);
  const billId = `E-${account}`;
  outside.biller.addAccount({
    account,
    holder: 'محمد خالد الأحمد',
    governorate: 'DAM',
    bills: [
      {
        id: billId,
        period: '9-10',
        amountMinor: 1_875_000,
        currency: 'SYP',
        dueDate,
        status: 'unpaid',
      },
    ],
  });
  return { account, billId };
}

let chatSeq = 940_000;

/** A new Telegram user who follows the accounts (and has read the replies). */
export async function followerOf(rig: ReminderRig, ...accounts: string[]): Promise<TelegramUser> {
  chatSeq += 1;
  const u = rig.user(chatSeq);
  await u.say('/start');
  for (const account of accounts) {
    const reply = await u.say(`ADD elec ${account}`);
    if (!reply.text.replace(/[\u2068\u2069]/g, '').includes(`الكهرباء ${account}`))
      throw new Error(`unexpected reply to ADD: ${reply.text}`);
  }
  return u;
}

/** Messages that reached the chat, as plain text. */
export function inbox(outside: Outside, u: TelegramUser): string[] {
  return outside.telegram.delivered(u.chatId).map((m) => m.text.replace(/[\u2068\u2069]/g, ''));
}

/** The reminders among them (Arabic: تذكير … / … تأخرت عن موعدها). */
export function remindersTo(outside: Outside, u: TelegramUser): string[] {
  return inbox(outside, u).filter((t) => /^تذكير:|تأخرت عن موعدها/.test(t));
}
