/**
 * The database a drill's Tasdeed runs on, as for `npm test`: a SQLite file in the drill's own
 * directory, or, when TEST_DATABASE_URL names a PostgreSQL server, a database of the drill's
 * own on that server (named tasdeed_t_r<run>_… as scripts/test-databases.mjs describes), created
 * migrated and dropped when the drill ends. Drills look into it through the same calls on both:
 * read-only statements written once, with `?` placeholders.
 */
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { postgresDialect } from '../src/db/dialect.js';
import { migrateSqlite } from '../src/db/migrate.js';
import { connectTo, type Connection } from '../test/support/db.js';
import { createMigratedTestDatabase, TEST_DATABASE_URL } from '../test/support/pg.js';

export type DrillDialect = 'sqlite' | 'postgresql';

/** Where this run's drills put their databases. */
export const DRILL_DIALECT: DrillDialect = TEST_DATABASE_URL ? 'postgresql' : 'sqlite';

export interface DrillDatabase {
  readonly dialect: DrillDialect;
  /** The DATABASE_URL Tasdeed is started with. */
  readonly url: string;
  /**
   * The rows of a read-only statement (`?` placeholders). Integers come back as numbers on both
   * (PostgreSQL's COUNT is a bigint); a boolean column is 0/1 on SQLite, a boolean on PostgreSQL,
   * so statements test it bare (`AND i."optedOut"`), which both read alike.
   */
  rows<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The first row's `n` (a COUNT(*) AS n). */
  count(sql: string, params?: unknown[]): Promise<number>;
  /** A store on it, on a connection of its own (to seed it before Tasdeed starts). */
  connect(): Connection;
  /** Closes the drill's own connection and, on PostgreSQL, drops the database. */
  remove(): Promise<void>;
}

/** A migrated database for a drill whose files live in `dir`. */
export async function drillDatabase(dir: string): Promise<DrillDatabase> {
  return TEST_DATABASE_URL ? postgresDatabase() : sqliteDatabase(join(dir, 'tasdeed.db'));
}

/** A migrated SQLite file in `dir`, whatever TEST_DATABASE_URL says (a drill about SQLite). */
export function sqliteDrillDatabase(dir: string): Promise<DrillDatabase> {
  return sqliteDatabase(join(dir, 'tasdeed.db'));
}

async function sqliteDatabase(file: string): Promise<DrillDatabase> {
  await migrateSqlite(file);
  const rows = <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
    // A connection per look, read-only: WAL lets a reader in while Tasdeed writes.
    const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      return Promise.resolve(db.prepare(sql).all(...params) as T[]);
    } finally {
      db.close();
    }
  };
  return {
    dialect: 'sqlite',
    url: `file:${file}`,
    rows,
    count: async (sql, params) => Number((await rows<{ n: number }>(sql, params))[0]?.n ?? 0),
    connect: () => connectTo(`file:${file}`),
    remove: () => Promise.resolve(),
  };
}

/** pg parses int8 (COUNT, BIGINT columns) into numbers here, as better-sqlite3 gives them. */
const INT8 = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) =>
    oid === INT8
      ? Number
      : (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as never,
};

async function postgresDatabase(): Promise<DrillDatabase> {
  const database = await createMigratedTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 2, types });
  // An idle connection the server ends (the database dropped under the drill) must not end the
  // drill: the next look fails instead, and the drill reports it.
  pool.on('error', () => undefined);
  const rows = async <T>(sql: string, params: unknown[] = []): Promise<T[]> =>
    (await pool.query(postgresDialect.sql(sql), params)).rows as T[];
  return {
    dialect: 'postgresql',
    url: database.url,
    rows,
    count: async (sql, params) => Number((await rows<{ n: number }>(sql, params))[0]?.n ?? 0),
    connect: () => connectTo(database.url),
    async remove() {
      await pool.end().catch(() => undefined);
      await database.drop();
    },
  };
}
