/**
 * Several Tasdeed processes on one PostgreSQL database (docs/design.md §10), for test/e2e/fleet.test.ts.
 *
 * Each member is `npm start`'s entry point in its own child process (spawnTasdeed) with its own
 * Bot API and Twilio stand-ins, so what each instance sent is counted at the stand-ins it
 * talks to; the biller and the payment channel stand-ins are shared (the catalogue file names
 * them). Members start together, Telegram in webhook mode (long polling allows one consumer).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { parseCatalogue } from '../../src/config/catalogue.js';
import { GOVERNORATE_CODES } from '../../src/core/domain.js';
import { postgresDialect } from '../../src/db/dialect.js';
import { createPostgresClient, migratePostgres } from '../../src/db/postgres.js';
import { PrismaStore } from '../../src/db/prisma-store.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { FakeTelegram, type RecordedCall } from '../support/fake-telegram.server.js';
import {
  startFakeTwilio,
  type FakeTwilio,
  type FakeTwilioMessage,
} from '../support/fake-twilio.server.js';
import { freePort, spawnTasdeed, waitFor, writeJson } from '../support/harness.js';

export const ADMIN_TOKEN = 'fleet-admin-token-0123456789';
export const PAYMENT_SECRET = 'whsec-fleet-0123456789';
export const TG_WEBHOOK_SECRET = 'fleet-webhook-secret_0123456789';
export const TWILIO_FROM = '+15005550006';

/** The catalogue's raw JSON: one biller and one payment channel, both local stand-ins. */
export function catalogueJson(billerUrl: string, paymentUrl: string): Record<string, unknown> {
  return {
    billers: [
      {
        id: 'electricity',
        name: { ar: 'الكهرباء', en: 'Electricity' },
        aliases: ['كهرباء', 'elec', 'electricity'],
        accountPattern: '^[0-9]{6,12}$',
        adapter: { type: 'http', baseUrl: billerUrl, timeoutMs: 2_000 },
      },
    ],
    paymentChannels: [
      {
        id: 'wallet',
        name: { ar: 'محفظة الجوال', en: 'Mobile wallet' },
        aliases: ['محفظة', 'wallet'],
        adapter: { type: 'http', baseUrl: paymentUrl, webhookSecret: PAYMENT_SECRET },
      },
    ],
    coverage: {},
  };
}

/**
 * A time zone in which the local minute is between :15 and :45 now (UTC, or India at +5:30),
 * so that the next full hour, when the hourly reminders job fires again, is at least a quarter
 * of an hour away: a run of this file sees one reminders slot, however late it is started.
 */
export function calmZone(now = DateTime.utc()): string {
  return now.minute >= 15 && now.minute < 45 ? 'UTC' : 'Asia/Kolkata';
}

/** Today's date in the zone, shifted by `days` (YYYY-MM-DD). */
export function localDay(zone: string, days = 0): string {
  return DateTime.now().setZone(zone).plus({ days }).toISODate()!;
}

/** Quiet hours far from the zone's current hour: bulk is never held back during the run. */
export function farQuietHours(zone: string): string {
  const hour = DateTime.now().setZone(zone).hour;
  return `${(hour + 12) % 24}-${(hour + 13) % 24}`;
}

/** The test's own connection to a fleet's database. */
export interface FleetDatabase {
  url: string;
  client: PrismaClient;
  store: PrismaStore;
  close(): Promise<void>;
}

/**
 * Migrates the database and opens the test's own connection. The coverage table is seeded here,
 * as the instances would seed it, because instances seeding an empty table at the same moment
 * collide: PrismaStore.seedCoverage reads, then creates, row by row, so on PostgreSQL all but
 * one fail on Coverage_pkey and exit. Drop the seeding here once seedCoverage inserts with
 * ON CONFLICT DO NOTHING.
 */
export async function prepareDatabase(
  url: string,
  catalogue: Record<string, unknown>,
): Promise<FleetDatabase> {
  await migratePostgres(url);
  const client = createPostgresClient(url);
  await client.$connect();
  const store = new PrismaStore(client, { dialect: postgresDialect });
  const parsed = parseCatalogue(catalogue, 'fleet catalogue');
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  await store.seedCoverage(
    parsed.catalogue.billers.flatMap((b) =>
      GOVERNORATE_CODES.map((governorate) => ({ billerId: b.id, governorate, available: true })),
    ),
  );
  return { url, client, store, close: () => client.$disconnect() };
}

export interface NewSubscriber {
  channel: 'telegram' | 'sms';
  address: string;
  governorate?: string;
  follows?: string[];
}

/**
 * Subscribers written straight into the database, as the rows ensureIdentity (and ADD for the
 * followed accounts) writes, in a few statements per thousand (10,000 conversations would
 * take minutes).
 */
export async function createSubscribers(
  client: PrismaClient,
  people: NewSubscriber[],
): Promise<void> {
  const chunk = 2_000;
  for (let start = 0; start < people.length; start += chunk) {
    const rows = people.slice(start, start + chunk).map((p) => ({ p, subscriberId: randomUUID() }));
    await client.subscriber.createMany({
      data: rows.map(({ p, subscriberId }) => ({
        id: subscriberId,
        language: 'ar',
        governorate: p.governorate ?? null,
      })),
    });
    await client.identity.createMany({
      data: rows.map(({ p, subscriberId }) => ({
        id: randomUUID(),
        subscriberId,
        channel: p.channel,
        address: p.address,
      })),
    });
    const follows = rows.flatMap(({ p, subscriberId }) =>
      (p.follows ?? []).map((account) => ({
        id: randomUUID(),
        subscriberId,
        billerId: 'electricity',
        account,
      })),
    );
    if (follows.length > 0) await client.followedAccount.createMany({ data: follows });
  }
}

/** One instance: its process, its URL and the stand-ins only it talks to. */
export interface Member {
  index: number;
  url: string;
  telegram: FakeTelegram;
  twilio: FakeTwilio;
  proc: ReturnType<typeof spawnTasdeed>;
}

export interface FleetOptions {
  size: number;
  databaseUrl: string;
  cataloguePath: string;
  /** Added to every member's environment (rates, time zone, send hour…). */
  env: Record<string, string>;
}

export class Fleet {
  private constructor(readonly members: Member[]) {}

  /** Starts every member at the same moment and waits until each one answers /healthz. */
  static async start(options: FleetOptions): Promise<Fleet> {
    const places: Array<Omit<Member, 'proc'>> = [];
    for (let index = 0; index < options.size; index++) {
      const telegram = await new FakeTelegram().start();
      const twilio = await startFakeTwilio();
      const port = await freePort();
      places.push({ index, url: `http://127.0.0.1:${port}`, telegram, twilio });
    }
    // Spawned one right after the other: they start together.
    const members: Member[] = places.map((m) => ({
      ...m,
      proc: spawnTasdeed({
        PORT: new URL(m.url).port,
        HOST: '127.0.0.1',
        PUBLIC_URL: m.url,
        DATABASE_URL: options.databaseUrl,
        TASDEED_ADMIN_TOKEN: ADMIN_TOKEN,
        TASDEED_CATALOGUE: options.cataloguePath,
        TELEGRAM_BOT_TOKEN: m.telegram.token,
        TELEGRAM_API_ROOT: m.telegram.apiRoot,
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_WEBHOOK_SECRET: TG_WEBHOOK_SECRET,
        SMS_GATEWAY: 'twilio',
        TWILIO_ACCOUNT_SID: m.twilio.accountSid,
        TWILIO_AUTH_TOKEN: m.twilio.authToken,
        TWILIO_FROM,
        TWILIO_API_ROOT: m.twilio.url,
        LOG_LEVEL: 'info',
        ...options.env,
      }),
    }));
    const fleet = new Fleet(members);
    try {
      await Promise.all(
        members.map((m) =>
          waitFor(
            `instance ${m.index} to listen`,
            async () => {
              if (m.proc.child.exitCode !== null)
                throw new Error(`instance ${m.index} exited:\n${m.proc.output().slice(-3000)}`);
              const res = await fetch(`${m.url}/healthz`).catch(() => null);
              return res?.ok ?? false;
            },
            120_000,
          ),
        ),
      );
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  /**
   * Waits until every member has split its rate limits `n` ways: the last "rate limits split"
   * line each one logged says `instances: n` (a member that started first said 1 or 2 until its
   * next heartbeat).
   */
  async waitForShare(n: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `every instance to count ${n} instances`,
      () =>
        this.members.every((m) => {
          const splits = m.proc
            .output()
            .split('\n')
            .filter((l) => l.includes('rate limits split between instances'));
          const last = splits[splits.length - 1];
          return last !== undefined && (JSON.parse(last) as { instances: number }).instances === n;
        }),
      timeoutMs,
    );
  }

  /** Every sendMessage call answered ok, with the member that made it. */
  telegramSent(): Array<RecordedCall & { member: number }> {
    return this.members.flatMap((m) =>
      m.telegram.calls
        .filter((c) => c.method === 'sendMessage' && c.params.__ok === true)
        .map((c) => ({ ...c, member: m.index })),
    );
  }

  /** Every SMS Twilio accepted, with the member that sent it. */
  smsSent(): Array<FakeTwilioMessage & { member: number }> {
    return this.members.flatMap((m) => m.twilio.messages.map((s) => ({ ...s, member: m.index })));
  }

  /** Staff API call on one member. */
  async admin(
    member: number,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.members[member]!.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Stops every member with SIGTERM (a clean shutdown); resolves with their exit codes. */
  async stop(): Promise<Array<number | null>> {
    const codes = await Promise.all(
      this.members.map(async (m) => {
        if (m.proc.child.exitCode === null && m.proc.child.signalCode === null)
          m.proc.child.kill('SIGTERM');
        return m.proc.exited;
      }),
    );
    for (const m of this.members) {
      await m.telegram.close();
      await m.twilio.close();
    }
    return codes;
  }

  /** The tail of every member's output (for failure messages). */
  outputs(chars = 1_500): string {
    return this.members
      .map((m) => `--- instance ${m.index}\n${m.proc.output().slice(-chars)}`)
      .join('\n');
  }
}

/** The largest number of calls at the stand-ins in any one-second window (times in ms). */
export function busiestSecond(times: number[]): { count: number; at: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { count: 0, at: 0 };
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= 1_000) first++;
    if (last - first + 1 > best.count) best = { count: last - first + 1, at: sorted[first]! };
  }
  return best;
}

/** A temporary directory for the catalogue file; removed by the returned function. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-fleet-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export { writeJson };
