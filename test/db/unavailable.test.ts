/**
 * A database that cannot be used for a moment (locked past the busy timeout) must not cost an
 * inbound message its reply: the SMS and Telegram inboxes set a message aside as poisonous only
 * for a fault of the message itself, and leave it for the next batch when the database failed
 * (found by `npm run drill -- db-locked`). isDatabaseUnavailable tells the two apart, here on
 * the errors SQLite and Prisma really throw — also the bare driver adapter error a
 * transaction's COMMIT throws when the disk refuses the write (found by the drill's
 * "files unwritable" episode: the inboxes set such messages aside as poisonous).
 */
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TelegramUpdateInbox } from '../../src/bot/update-inbox.js';
import type { ConversationService } from '../../src/core/conversation/conversation.service.js';
import { systemClock } from '../../src/core/ports/clock.port.js';
import { migrateSqlite } from '../../src/db/migrate.js';
import { PrismaStore } from '../../src/db/prisma-store.js';
import { createSqliteClient } from '../../src/db/sqlite.js';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { createLogger } from '../../src/observability/logger.js';
import { SmsInbox } from '../../src/sms-front/sms-inbox.js';
import { ReplyCap } from '../../src/sms/limits.js';

const logger = createLogger({ level: 'silent' });

/** prlimit (util-linux) lowers this process's own file size limit: Linux only. */
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;

/** Runs `fn` while every write of this process to a file fails (EFBIG), as on a full disk. */
async function whileFilesRefuseWrites<T>(fn: () => Promise<T>): Promise<T> {
  const pid = String(process.pid);
  const soft = execFileSync('prlimit', [
    '--pid',
    pid,
    '--fsize',
    '--raw',
    '--noheadings',
    '--output',
    'SOFT',
  ])
    .toString()
    .trim();
  execFileSync('prlimit', ['--pid', pid, '--fsize=0:']);
  try {
    return await fn();
  } finally {
    execFileSync('prlimit', ['--pid', pid, `--fsize=${soft}:`]);
  }
}

/** What a transaction's COMMIT throws when the disk refuses the write: the adapter's error, bare. */
function commitRefusedByDisk(): Error {
  const error = new Error('disk I/O error', {
    cause: {
      originalCode: 'SQLITE_IOERR_WRITE',
      originalMessage: 'disk I/O error',
      kind: 'sqlite',
      extendedCode: 778,
    },
  });
  error.name = 'DriverAdapterError';
  return error;
}

describe('a database that cannot be used just now', () => {
  let dir: string;
  let file: string;
  let client: PrismaClient;
  let store: PrismaStore;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasdeed-unavailable-'));
    file = join(dir, 'test.db');
    await migrateSqlite(file);
    client = createSqliteClient(file);
    store = new PrismaStore(client);
  });
  after(async () => {
    await client.$disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An SMS inbox whose conversation answers with `handle`, one message (`key`) recorded in it. */
  async function smsInboxHolding(key: string, handle: () => Promise<never>): Promise<SmsInbox> {
    // No keyword here: the inbox asks the grammar before it hands the message on.
    const grammar = { parse: () => ({ type: 'unknown' }) };
    const conversation = { handle, grammar } as unknown as ConversationService;
    const inbox = new SmsInbox({
      store,
      conversation,
      replyCap: new ReplyCap(100, store, systemClock),
      clock: systemClock,
      logger,
      wake: () => undefined,
    });
    await inbox.record({
      gateway: 'twilio',
      dedupeKey: key,
      providerMessageId: key,
      from: '+963944000002',
      to: '+15005550006',
      text: 'فاتورة',
      receivedAt: null,
    });
    return inbox;
  }

  /** Holds SQLite's write lock from another connection while `fn` runs. */
  async function whileLocked<T>(fn: () => Promise<T>): Promise<T> {
    const other = new BetterSqlite3(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      return await fn();
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  }

  it('is recognised in what SQLite and Prisma throw, and nothing else is', async () => {
    const prismaError = await whileLocked(() =>
      store.recordSmsInbound({
        gateway: 'twilio',
        dedupeKey: 'twilio:SMlocked',
        fromAddress: '+963944000001',
        toAddress: null,
        text: 'x',
        receivedAt: null,
      }),
    ).then(
      () => assert.fail('a write under another connection’s lock succeeded'),
      (error: unknown) => error,
    );
    assert.equal(isDatabaseUnavailable(prismaError), true, String(prismaError));

    const raw = new BetterSqlite3(file, { timeout: 0 });
    const sqliteError = await whileLocked(() =>
      Promise.resolve().then(() => raw.exec(`DELETE FROM "SmsInbound"`)),
    ).then(
      () => assert.fail('expected SQLITE_BUSY'),
      (error: unknown) => error,
    );
    raw.close();
    assert.equal(isDatabaseUnavailable(sqliteError), true, String(sqliteError));
    // grammY wraps a middleware's error in a BotError (`error`), others use `cause`.
    assert.equal(isDatabaseUnavailable({ name: 'BotError', error: prismaError }), true);
    assert.equal(isDatabaseUnavailable(new Error('wrapped', { cause: sqliteError })), true);

    const unique = await store
      .recordSmsInbound({
        gateway: 'twilio',
        dedupeKey: 'twilio:SMunique',
        fromAddress: '+963944000001',
        toAddress: null,
        text: 'x',
        receivedAt: null,
      })
      .then(() =>
        client.smsInbound.create({
          data: { gateway: 'twilio', dedupeKey: 'twilio:SMunique', fromAddress: 'x', text: 'x' },
        }),
      )
      .then(
        () => assert.fail('expected a unique violation'),
        (error: unknown) => error,
      );
    assert.equal(
      isDatabaseUnavailable(unique),
      false,
      'a constraint violation is the query’s fault',
    );
    assert.equal(isDatabaseUnavailable(new TypeError('x is undefined')), false);
    assert.equal(isDatabaseUnavailable(null), false);
  });

  it(
    'is recognised in what a transaction throws when the disk refuses its commit',
    { skip: hasPrlimit ? false : 'needs prlimit (util-linux)' },
    async () => {
      const error = await whileFilesRefuseWrites(() =>
        store.transaction((tx) =>
          tx.recordSmsInbound({
            gateway: 'twilio',
            dedupeKey: 'twilio:SMdiskfull',
            fromAddress: '+963944000001',
            toAddress: null,
            text: 'x',
            receivedAt: null,
          }),
        ),
      ).then(
        () => assert.fail('a write succeeded while the files refused writes'),
        (e: unknown) => e,
      );
      assert.equal(isDatabaseUnavailable(error), true, String(error));
      assert.equal(isDatabaseUnavailable(commitRefusedByDisk()), true);
      assert.equal(
        isDatabaseUnavailable({ name: 'BotError', error: commitRefusedByDisk() }),
        true,
        'as grammY wraps it',
      );
      // The database works again afterwards.
      assert.equal(
        await store.recordSmsInbound({
          gateway: 'twilio',
          dedupeKey: 'twilio:SMdiskfull',
          fromAddress: '+963944000001',
          toAddress: null,
          text: 'x',
          receivedAt: null,
        }),
        true,
      );
    },
  );

  it('the SMS inbox keeps a message whose transaction the disk refused', async () => {
    await client.smsInbound.deleteMany();
    const inbox = await smsInboxHolding('SMdisk1', () => Promise.reject(commitRefusedByDisk()));
    await assert.rejects(inbox.drain());
    assert.deepEqual(
      (await store.unprocessedSmsInbound(10)).map((r) => r.dedupeKey),
      ['twilio:SMdisk1'],
      'still waiting for the database, not set aside',
    );
  });

  it('the SMS inbox keeps a message whose processing met the locked database', async () => {
    await client.smsInbound.deleteMany();
    let failWith = new Error('not set');
    const inbox = await smsInboxHolding('SMinbox1', () => Promise.reject(failWith));
    failWith = Object.assign(new Error('Operation has timed out'), {
      code: 'P1008',
      meta: {
        driverAdapterError: { cause: { originalCode: 'SQLITE_BUSY', kind: 'SocketTimeout' } },
      },
    });
    await assert.rejects(inbox.drain());
    assert.deepEqual(
      (await store.unprocessedSmsInbound(10)).map((r) => r.dedupeKey),
      ['twilio:SMinbox1'],
      'still waiting for the database',
    );
    failWith = new Error('a bug in the conversation');
    await inbox.drain();
    assert.deepEqual(await store.unprocessedSmsInbound(10), [], 'a poisonous message is set aside');
  });

  it('the Telegram inbox keeps an update whose processing met the locked database', async () => {
    let failWith: Error | null = null;
    const processed: number[] = [];
    const inbox = new TelegramUpdateInbox(
      store,
      async (update) => {
        if (update.update_id === 2 && failWith) throw failWith;
        processed.push(update.update_id);
        return Promise.resolve();
      },
      systemClock,
      logger,
    );
    const message = (id: number, chat: number) => ({
      update_id: id,
      message: { message_id: id, date: 0, chat: { id: chat, type: 'private' }, text: 'x' },
    });
    for (const [id, chat] of [
      [1, 10],
      [2, 10],
      [3, 10],
      [4, 20],
    ] as const) {
      await inbox.record(message(id, chat));
    }
    // As grammY throws it: a BotError whose `error` is the driver's.
    failWith = Object.assign(new Error('BotError'), {
      error: Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
    });
    await assert.rejects(inbox.drain());
    assert.deepEqual(processed.sort(), [1, 4], 'other chats go on; this chat stops at update 2');
    assert.deepEqual(
      (await store.unprocessedTelegramUpdates(10)).map((r) => r.updateId),
      [2, 3],
      'update 2 and the one after it wait, in order',
    );
    failWith = null;
    await inbox.drain();
    assert.deepEqual(processed, [1, 4, 2, 3]);
    assert.deepEqual(await store.unprocessedTelegramUpdates(10), []);
  });
});
