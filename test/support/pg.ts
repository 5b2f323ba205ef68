/**
 * PostgreSQL for tests: when TEST_DATABASE_URL is set (CI sets it), each test database is a
 * fresh database created on that server and dropped afterwards; when it is not set, the
 * suite runs on SQLite and the PostgreSQL-only tests are skipped with a clear message.
 *
 * Every test database is named `tasdeed_t_r<run>_…`, <run> being the process id of the test
 * run (scripts/run-tests.mjs, or the test process when run on its own): a run drops the
 * databases of runs whose process is gone, and never those of a run going on beside it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { checksumOf, readMigrationFiles } from '../../src/db/migrate.js';
import { DEFAULT_POSTGRES_MIGRATIONS_DIR, migratePostgres } from '../../src/db/postgres.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || null;

/** The reason PostgreSQL-only tests give when they are skipped. */
export const NO_POSTGRES =
  'TEST_DATABASE_URL is not set: PostgreSQL tests skipped (set it, e.g. postgresql://postgres@127.0.0.1:5432/postgres)';

/** `{ skip }` for a PostgreSQL-only describe/it: skipped, with NO_POSTGRES, without the server. */
export const onlyPostgres = { skip: TEST_DATABASE_URL ? false : NO_POSTGRES } as const;

/** The prefix of every database the tests create. */
export const TEST_DATABASE_PREFIX = 'tasdeed_t_';

// Inherited by the processes a test starts, so that they name a directory's database alike.
process.env.TASDEED_TEST_RUN ||= String(process.pid);
/** The prefix of this run's databases. */
const RUN_PREFIX = `${TEST_DATABASE_PREFIX}r${process.env.TASDEED_TEST_RUN}_`;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  if (!TEST_DATABASE_URL) throw new Error(NO_POSTGRES);
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function testDatabase(name: string): TestDatabase {
  return {
    name,
    url: withDatabase(TEST_DATABASE_URL!, name),
    drop: () => dropTestDatabase(name),
  };
}

/** Drops a test database, closing whatever connections are still on it. */
export async function dropTestDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** A new, empty database on the TEST_DATABASE_URL server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${RUN_PREFIX}${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  return testDatabase(name);
}

/**
 * A new database with every migration applied, copied from a template migrated once per set of
 * migration files (CREATE DATABASE … TEMPLATE copies in a fraction of the time the migrations
 * take). The template is built under a temporary name and renamed when complete, so a copy never
 * sees it half-migrated.
 */
export async function createMigratedTestDatabase(): Promise<TestDatabase> {
  const name = `${RUN_PREFIX}${randomBytes(6).toString('hex')}`;
  await admin((c) => createFromTemplate(c, name));
  return testDatabase(name);
}

/**
 * Creates `name` as a copy of the migrated template, waiting out the moments another session is
 * on the template, and building the template again should another run have dropped it.
 */
async function createFromTemplate(c: pg.Client, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const template = await migratedTemplate();
    try {
      await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 50) throw error;
      // 3D000 invalid_catalog_name: the template is gone (dropped by hand, say).
      if (code === '3D000') templateReady = null;
      // 55006 object_in_use: "source database … is being accessed by other users".
      else if (code !== '55006') throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

let templateReady: Promise<string> | null = null;

function migratedTemplate(): Promise<string> {
  templateReady ??= buildTemplate().catch((error: unknown) => {
    templateReady = null;
    throw error;
  });
  return templateReady;
}

async function buildTemplate(): Promise<string> {
  const files = readMigrationFiles(DEFAULT_POSTGRES_MIGRATIONS_DIR);
  const version = checksumOf(files.map((f) => `${f.name}:${f.checksum}`).join('\n')).slice(0, 12);
  const name = `${RUN_PREFIX}template_${version}`;
  const exists = await admin(async (c) => {
    const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return (found.rowCount ?? 0) > 0;
  });
  if (exists) return name;
  const building = `${RUN_PREFIX}build_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${building}"`));
  try {
    await migratePostgres(testDatabase(building).url);
    await admin(async (c) => {
      try {
        await c.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
      } catch (error) {
        // 42P04: another test process finished the same template first; use theirs.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    });
  } finally {
    await dropTestDatabase(building);
  }
  return name;
}

/**
 * The database of a test directory: the same name for the same directory, so that instances
 * started on that directory (a restart, a second process) share it as they would share a
 * SQLite file in it. Created (migrated) when missing; drop it when the directory goes.
 */
export function databaseNameForDir(dir: string): string {
  const hash = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16);
  return `${RUN_PREFIX}dir_${hash}`;
}

export async function ensureDirDatabase(dir: string): Promise<TestDatabase> {
  const name = databaseNameForDir(dir);
  await admin(async (c) => {
    const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return;
    try {
      await createFromTemplate(c, name);
    } catch (error) {
      // Another process created it between the look and the CREATE: 42P04 duplicate_database,
      // or 23505 when both inserted into pg_database at once.
      const code = (error as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw error;
    }
  });
  return testDatabase(name);
}
