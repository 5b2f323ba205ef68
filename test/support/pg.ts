/**
 * PostgreSQL for tests: when TEST_DATABASE_URL is set (CI sets it), each test database is a
 * fresh database created on that server and dropped afterwards; when it is not set, the
 * suite runs on SQLite and the PostgreSQL-only tests are skipped with a clear message.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || null;

/** The reason PostgreSQL-only tests give when they are skipped. */
export const NO_POSTGRES =
  'TEST_DATABASE_URL is not set: PostgreSQL tests skipped (set it, e.g. postgresql://postgres@127.0.0.1:5432/postgres)';

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
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database on the TEST_DATABASE_URL server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tasdeed_t_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    url: withDatabase(TEST_DATABASE_URL!, name),
    drop: () =>
      admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}
