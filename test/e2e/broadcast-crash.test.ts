/**
 * A process killed (SIGKILL) in the middle of a 5,000-recipient Telegram broadcast resumes after
 * restart: every chat gets the message, and the only repeats are the messages that were in
 * flight when it died, at most the bulk pool's in-flight limit (DEFAULT_POOLS: 16). Counted at
 * the local Bot API stand-in.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { DEFAULT_POOLS } from '../../src/core/outbox/dispatcher.js';
import { connectTo } from '../support/db.js';
import { FakeTelegram } from '../support/fake-telegram.server.js';
import {
  databaseForDir,
  freePort,
  removeTestDir,
  spawnTasdeed,
  waitFor,
} from '../support/harness.js';

const ADMIN_TOKEN = 'crash-admin-token-0123456789';
const RECIPIENTS = 5_000;
const FIRST_CHAT = 800_000;
const TEXT = 'انقطاع مبرمج للكهرباء يوم الخميس من 9 إلى 14. نعتذر عن الإزعاج.';

describe('crash in the middle of a 5,000-recipient broadcast', () => {
  let tg: FakeTelegram;
  let dir: string;
  let url: string;
  let env: Record<string, string>;

  before(async () => {
    tg = await new FakeTelegram().start();
    dir = mkdtempSync(join(tmpdir(), 'tasdeed-bc-crash-'));
    // The directory's database: its SQLite file, or a PostgreSQL database named after it.
    const database = await databaseForDir(dir);
    // The subscribers exist before the process starts, as Telegram users who wrote once:
    // the rows ensureIdentity('telegram', chatId, 'ar') writes, in two statements (5,000
    // ensureIdentity calls take 10-20 s, a fifth of this file's budget).
    const { client, store, close } = connectTo(database.url);
    try {
      const ids = Array.from({ length: RECIPIENTS }, (_, i) => ({
        chat: String(FIRST_CHAT + i),
        subscriberId: randomUUID(),
      }));
      await client.subscriber.createMany({
        data: ids.map((x) => ({ id: x.subscriberId, language: 'ar' })),
      });
      await client.identity.createMany({
        data: ids.map((x) => ({
          id: randomUUID(),
          subscriberId: x.subscriberId,
          channel: 'telegram',
          address: x.chat,
        })),
      });
      // The store reads them as it reads the identities it creates itself.
      const last = String(FIRST_CHAT + RECIPIENTS - 1);
      const { identity, created } = await store.ensureIdentity('telegram', last, 'ar');
      assert.equal(created, false);
      assert.equal((await store.getSubscriber(identity.subscriberId))?.language, 'ar');
    } finally {
      await close();
    }
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // Quiet hours well away from now, so the run does not depend on the time of day.
    const hour = DateTime.now().setZone('Asia/Damascus').hour;
    env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      DATABASE_URL: database.url,
      TASDEED_ADMIN_TOKEN: ADMIN_TOKEN,
      TASDEED_QUIET_HOURS: `${(hour + 6) % 24}-${(hour + 7) % 24}`,
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: 'crash-webhook-secret-0123456789',
      TELEGRAM_BULK_PER_SECOND: '500',
      LOG_LEVEL: 'warn',
    };
  });
  after(async () => {
    await tg.close();
    await removeTestDir(dir);
  });

  async function boot() {
    const proc = spawnTasdeed(env);
    await waitFor(
      'Tasdeed to listen',
      async () => {
        const res = await fetch(`${url}/healthz`).catch(() => null);
        return res?.ok ?? false;
      },
      30_000,
    );
    return proc;
  }

  async function admin(method: 'GET' | 'POST', path: string, body?: unknown) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Deliveries of the broadcast at the stand-in, per chat. */
  function deliveries(): Map<string, number> {
    const perChat = new Map<string, number>();
    for (const c of tg.calls) {
      if (c.method !== 'sendMessage' || c.params.__ok !== true || c.params.text !== TEXT) continue;
      const chat = String(c.params.chat_id);
      perChat.set(chat, (perChat.get(chat) ?? 0) + 1);
    }
    return perChat;
  }
  const total = () => [...deliveries().values()].reduce((a, b) => a + b, 0);

  it('every chat gets it; duplicates stay within the in-flight limit', async (t) => {
    const started = Date.now();
    const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const first = await boot();
    t.diagnostic(`first process up after ${since()}`);
    let second: ReturnType<typeof spawnTasdeed> | null = null;
    try {
      const created = await admin('POST', '/admin/broadcasts', {
        text: { ar: TEXT },
        audience: { all: true },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.recipients, RECIPIENTS);
      const id = String(created.body.id);

      await waitFor('half of them to arrive', () => total() >= RECIPIENTS / 2, 240_000);
      first.child.kill('SIGKILL');
      await first.exited;
      const beforeRestart = total();
      t.diagnostic(`killed with ${beforeRestart} of ${RECIPIENTS} delivered after ${since()}`);
      assert.ok(beforeRestart < RECIPIENTS, 'killed in the middle, not after the end');

      second = await boot();
      t.diagnostic(`second process up after ${since()}`);
      // Asked once a second: the process is left to its work.
      let done: Record<string, unknown> | null = null;
      for (const end = Date.now() + 240_000; !done;) {
        const p = await admin('GET', `/admin/broadcasts/${id}`);
        if (p.body.status === 'done') done = p.body;
        else if (Date.now() > end) assert.fail(`not done: ${JSON.stringify(p.body)}`);
        else await new Promise((r) => setTimeout(r, 1_000));
      }
      t.diagnostic(`done after ${since()}`);
      assert.deepEqual(done.counts, {
        queued: 0,
        sent: RECIPIENTS,
        delivered: 0,
        failed: 0,
        skipped: 0,
        cancelled: 0,
      });

      const perChat = deliveries();
      const missing: number[] = [];
      for (let i = 0; i < RECIPIENTS; i++) {
        if (!perChat.has(String(FIRST_CHAT + i))) missing.push(FIRST_CHAT + i);
      }
      assert.deepEqual(missing.slice(0, 20), [], `${missing.length} chats got nothing`);
      assert.equal(perChat.size, RECIPIENTS, 'nobody outside the audience');
      const duplicates = total() - RECIPIENTS;
      const limit = DEFAULT_POOLS.find((p) => p.name === 'bulk')!.inFlight;
      t.diagnostic(`duplicates after the crash: ${duplicates} (bulk in-flight limit ${limit})`);
      assert.ok(
        duplicates <= limit,
        `${duplicates} duplicates, more than the ${limit} that can be in flight`,
      );
      assert.ok(
        [...perChat.values()].every((n) => n <= 2),
        'a repeat is one message sent again, never more',
      );
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null)
        first.child.kill('SIGKILL');
      if (second) {
        second.child.kill('SIGTERM');
        const code = await second.exited;
        assert.equal(code, 0, `graceful stop exits 0:\n${second.output().slice(-2000)}`);
      }
    }
  });
});
