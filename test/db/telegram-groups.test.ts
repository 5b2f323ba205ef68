/**
 * Telegram groups in the store, on SQLite and on PostgreSQL (TEST_DATABASE_URL): the one
 * pointer a group gets is claimed once per chat, whichever connection claims it, and every
 * later message of the group costs one statement that does not fail (a failed INSERT is an
 * ERROR in PostgreSQL's server log, per group message); and the migration that made the bot
 * private-only opts out the group identities an older version recorded, so that they get no
 * more reminders or broadcasts.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DEFAULT_SQLITE_MIGRATIONS_DIR, migrateSqlite } from '../../src/db/migrate.js';
import { DEFAULT_POSTGRES_MIGRATIONS_DIR, migratePostgres } from '../../src/db/postgres.js';
import { connectTo, createTestStore, type TestStore } from '../support/db.js';
import {
  createMigratedTestDatabase,
  createTestDatabase,
  onlyPostgres,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/pg.js';
import { waitFor } from '../support/wait.js';

/** The migration that made the bot private-only. */
const MIGRATION = '0013_telegram_private_chats.sql';

/** A copy of a dialect's migrations as they were before MIGRATION. */
function migrationsBefore(dir: string): { dir: string; remove(): void } {
  const copy = mkdtempSync(join(tmpdir(), 'tasdeed-migrations-'));
  cpSync(dir, copy, { recursive: true });
  for (const name of readdirSync(copy)) if (name >= MIGRATION) rmSync(join(copy, name));
  return { dir: copy, remove: () => rmSync(copy, { recursive: true, force: true }) };
}

/** Identities an older version recorded: a supergroup, a group, a person, an SMS number. */
const ROWS = [
  { id: 'i-supergroup', channel: 'telegram', address: '-1001234567890' },
  { id: 'i-group', channel: 'telegram', address: '-4242' },
  { id: 'i-person', channel: 'telegram', address: '555001' },
  { id: 'i-sms', channel: 'sms', address: '+963944123456' },
] as const;

/** After the migration: the groups opted out, the others not, and a broadcast reaches only them. */
async function assertGroupsOptedOut(url: string): Promise<void> {
  const { store, close } = connectTo(url);
  try {
    for (const row of ROWS) {
      const identity = await store.findIdentity(row.channel, row.address);
      assert.ok(identity, row.id);
      const group = row.address.startsWith('-');
      assert.equal(identity.optedOut, group, `${row.id} opted out`);
    }
    const reached = await store.countAudience({ all: true }, ['telegram', 'sms']);
    assert.deepEqual(reached.map((g) => [g.channel, g.count]).sort(), [
      ['sms', 1],
      ['telegram', 1],
    ]);
  } finally {
    await close();
  }
}

describe(`migration ${MIGRATION}`, () => {
  it('SQLite: opts out the Telegram group identities already in the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasdeed-groups-'));
    const before = migrationsBefore(DEFAULT_SQLITE_MIGRATIONS_DIR);
    try {
      const file = join(dir, 'old.db');
      await migrateSqlite(file, before.dir);
      const db = new Database(file);
      try {
        for (const row of ROWS) {
          db.prepare('INSERT INTO "Subscriber" ("id", "updatedAt") VALUES (?, ?)').run(
            `s-${row.id}`,
            Date.now(),
          );
          db.prepare(
            'INSERT INTO "Identity" ("id", "subscriberId", "channel", "address") VALUES (?, ?, ?, ?)',
          ).run(row.id, `s-${row.id}`, row.channel, row.address);
        }
      } finally {
        db.close();
      }
      const result = await migrateSqlite(file);
      assert.ok(result.applied.includes(MIGRATION), JSON.stringify(result.applied));
      await assertGroupsOptedOut(`file:${file}`);
    } finally {
      before.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('PostgreSQL', onlyPostgres, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase();
    });
    after(async () => {
      await database.drop();
    });

    it('opts out the Telegram group identities already in the database', async () => {
      const before = migrationsBefore(DEFAULT_POSTGRES_MIGRATIONS_DIR);
      try {
        await migratePostgres(database.url, before.dir);
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          for (const row of ROWS) {
            await client.query('INSERT INTO "Subscriber" ("id", "updatedAt") VALUES ($1, NOW())', [
              `s-${row.id}`,
            ]);
            await client.query(
              'INSERT INTO "Identity" ("id", "subscriberId", "channel", "address") VALUES ($1, $2, $3, $4)',
              [row.id, `s-${row.id}`, row.channel, row.address],
            );
          }
        } finally {
          await client.end();
        }
      } finally {
        before.remove();
      }
      const result = await migratePostgres(database.url);
      assert.ok(result.applied.includes(MIGRATION), JSON.stringify(result.applied));
      await assertGroupsOptedOut(database.url);
    });
  });
});

describe('claimTelegramGroupNotice', () => {
  let t: TestStore;
  before(async () => {
    t = await createTestStore();
  });
  after(async () => {
    await t.close();
  });

  it('is true once per chat, whichever connection claims it, also at the same moment', async () => {
    const other = t.connect();
    try {
      const at = new Date();
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other.store : t.store).claimTelegramGroupNotice('-100777', at),
        ),
      );
      assert.equal(claims.filter(Boolean).length, 1, JSON.stringify(claims));
      assert.equal(await other.store.claimTelegramGroupNotice('-100777', at), false);
      assert.equal(await t.store.claimTelegramGroupNotice('-100778', at), true, 'another chat');
    } finally {
      await other.close();
    }
  });
});

/**
 * Transactions rolled back in a database so far, read once no session is on it: a backend
 * reports its counts to pg_stat_database by the time it has left pg_stat_activity.
 */
async function rollbacksIn(database: string): Promise<number> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL! });
  await client.connect();
  try {
    await waitFor('the sessions on the database to end', async () => {
      const { rows } = await client.query<{ n: string }>(
        'SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = $1',
        [database],
      );
      return Number(rows[0]!.n) === 0;
    });
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
      [database],
    );
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe('claimTelegramGroupNotice on PostgreSQL', onlyPostgres, () => {
  it('a busy group costs no failed statement: nothing rolls back after the first claim', async () => {
    const database = await createMigratedTestDatabase();
    try {
      const before = await rollbacksIn(database.name);
      const { store, close } = connectTo(database.url);
      try {
        const at = new Date();
        assert.equal(await store.claimTelegramGroupNotice('-100900', at), true);
        for (let i = 0; i < 20; i++)
          assert.equal(await store.claimTelegramGroupNotice('-100900', at), false);
      } finally {
        await close();
      }
      assert.equal((await rollbacksIn(database.name)) - before, 0, 'transactions rolled back');
    } finally {
      await database.drop();
    }
  });
});
