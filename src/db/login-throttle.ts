/**
 * Failed staff logins per client address (the console form and the bearer API together), in the
 * LoginThrottle table. A failure is counted and the new count read back in one statement, so
 * that parallel attempts each see a different count and the caller decides on it: no two of
 * them can both read "4 so far" and both be let through.
 */
import type { Prisma } from '../generated/prisma/client.js';
import type { SqlDialect } from './dialect.js';

/** A client's failures in its current window, which starts at the first of them. */
export interface LoginFailures {
  failures: number;
  windowStartMs: number;
}

/** What the lockout needs of the database. */
export interface LoginThrottlePort {
  /** The client's failures so far, or null when it has none. */
  get(client: string): Promise<LoginFailures | null>;
  /**
   * Counts one failure, starting a new window at `nowMs` when the client's last one started at
   * or before `nowMs - windowMs`; returns the failures after this one.
   */
  countFailure(client: string, nowMs: number, windowMs: number): Promise<LoginFailures>;
  /** Forgets the client's failures (it logged in). */
  clear(client: string): Promise<void>;
}

/** What the throttle needs of the store: PrismaStore has it. */
export interface SqlStore {
  sql<T>(fn: (db: Prisma.TransactionClient, dialect: SqlDialect) => Promise<T>): Promise<T>;
}

export function isSqlStore(store: object): store is SqlStore {
  return typeof (store as Partial<SqlStore>).sql === 'function';
}

interface Row {
  failures: number | bigint;
  windowStartMs: number | bigint;
}

const toFailures = (row: Row): LoginFailures => ({
  failures: Number(row.failures),
  windowStartMs: Number(row.windowStartMs),
});

// ON CONFLICT … DO UPDATE takes the row's lock on PostgreSQL (and SQLite runs one writer at a
// time), so concurrent failures are counted one after the other.
const COUNT_FAILURE = `
  INSERT INTO "LoginThrottle" ("client", "failures", "windowStartMs") VALUES (?, 1, ?)
  ON CONFLICT ("client") DO UPDATE SET
    "failures" = CASE WHEN "LoginThrottle"."windowStartMs" <= ? THEN 1
                      ELSE "LoginThrottle"."failures" + 1 END,
    "windowStartMs" = CASE WHEN "LoginThrottle"."windowStartMs" <= ? THEN excluded."windowStartMs"
                           ELSE "LoginThrottle"."windowStartMs" END
  RETURNING "failures", "windowStartMs"`;

export class SqlLoginThrottle implements LoginThrottlePort {
  constructor(private readonly store: SqlStore) {}

  async get(client: string): Promise<LoginFailures | null> {
    const rows = await this.store.sql((db, d) =>
      db.$queryRawUnsafe<Row[]>(
        d.sql(`SELECT "failures", "windowStartMs" FROM "LoginThrottle" WHERE "client" = ?`),
        client,
      ),
    );
    return rows[0] ? toFailures(rows[0]) : null;
  }

  async countFailure(client: string, nowMs: number, windowMs: number): Promise<LoginFailures> {
    const expired = nowMs - windowMs;
    const rows = await this.store.sql(async (db, d) => {
      const counted = await db.$queryRawUnsafe<Row[]>(
        d.sql(COUNT_FAILURE),
        client,
        nowMs,
        expired,
        expired,
      );
      // Other clients' rows whose window is over are of no more use.
      await db.$executeRawUnsafe(
        d.sql(`DELETE FROM "LoginThrottle" WHERE "windowStartMs" <= ? AND "client" <> ?`),
        expired,
        client,
      );
      return counted;
    });
    if (!rows[0]) throw new Error('LoginThrottle: the failure was not counted');
    return toFailures(rows[0]);
  }

  async clear(client: string): Promise<void> {
    await this.store.sql((db, d) =>
      db.$executeRawUnsafe(d.sql(`DELETE FROM "LoginThrottle" WHERE "client" = ?`), client),
    );
  }
}
