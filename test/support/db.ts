/**
 * A fresh, migrated database per test (or per suite), deleted afterwards: on PostgreSQL when
 * TEST_DATABASE_URL is set (a new database on that server), on SQLite otherwise (a file in a
 * new temporary directory). Tests about SQLite itself (its file, its lock, its migrations) ask
 * for createSqliteTestStore() and run on SQLite whatever the environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { postgresDialect } from '../../src/db/dialect.js';
import { migrateSqlite } from '../../src/db/migrate.js';
import { createPostgresClient } from '../../src/db/postgres.js';
import { PrismaStore } from '../../src/db/prisma-store.js';
import { createSqliteClient, sqliteFileFromUrl } from '../../src/db/sqlite.js';
import { createMigratedTestDatabase, TEST_DATABASE_URL } from './pg.js';

export type Dialect = 'sqlite' | 'postgresql';

/** The dialect createTestStore() and startTasdeed() use in this run. */
export const TEST_DIALECT: Dialect = TEST_DATABASE_URL ? 'postgresql' : 'sqlite';

/** A store on an existing database, on a client of its own (what another instance would have). */
export interface Connection {
  store: PrismaStore;
  client: PrismaClient;
  close: () => Promise<void>;
}

export interface TestStore extends Connection {
  readonly dialect: Dialect;
  /** The database as a DATABASE_URL (`file:…` or `postgresql://…`). */
  readonly url: string;
  /** SQLite: the database file (its -wal and -shm files sit next to it); PostgreSQL: null. */
  readonly file: string | null;
  /** Another connection to the same database, e.g. a second instance racing this one. */
  connect(): Connection;
  /** Disconnects and deletes the database (and, on SQLite, its directory). */
  close: () => Promise<void>;
}

export interface SqliteTestStore extends TestStore {
  readonly dialect: 'sqlite';
  readonly file: string;
}

/**
 * Opens a store on the database of a DATABASE_URL, already migrated (e.g. the one a running
 * Tasdeed uses): SQLite for `file:`, PostgreSQL for `postgresql://`.
 */
export function connectTo(url: string): Connection {
  const postgres = /^postgres(ql)?:\/\//.test(url);
  const client = postgres ? createPostgresClient(url) : createSqliteClient(sqliteFileFromUrl(url));
  const store = postgres
    ? new PrismaStore(client, { dialect: postgresDialect })
    : new PrismaStore(client);
  return { store, client, close: () => client.$disconnect() };
}

/** A migrated database of this run's dialect (see TEST_DIALECT). */
export function createTestStore(): Promise<TestStore> {
  return TEST_DATABASE_URL ? createPostgresTestStore() : createSqliteTestStore();
}

/** A migrated SQLite database in a temporary directory, whatever the environment. */
export async function createSqliteTestStore(): Promise<SqliteTestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-db-'));
  const file = join(dir, 'test.db');
  try {
    await migrateSqlite(file);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const url = `file:${file}`;
  const { store, client } = connectTo(url);
  let closed = false;
  return {
    dialect: 'sqlite',
    store,
    client,
    url,
    file,
    connect: () => connectTo(url),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.$disconnect();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A migrated PostgreSQL database on the TEST_DATABASE_URL server (throws NO_POSTGRES without). */
export async function createPostgresTestStore(): Promise<TestStore> {
  const database = await createMigratedTestDatabase();
  const { store, client } = connectTo(database.url);
  let closed = false;
  return {
    dialect: 'postgresql',
    store,
    client,
    url: database.url,
    file: null,
    connect: () => connectTo(database.url),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.$disconnect();
      } finally {
        await database.drop();
      }
    },
  };
}
