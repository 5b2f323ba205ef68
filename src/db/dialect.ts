/**
 * The few places where SQLite and PostgreSQL SQL differ, for the statements the store writes
 * by hand (set-based planning, SKIP LOCKED claims, row locks). Statements are written once, with `?`
 * placeholders and these helpers; everything else goes through Prisma's model API.
 */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgresql';
  /** The statement with this dialect's placeholders (`?` → `$1, $2…` on PostgreSQL). */
  sql(text: string): string;
  /** A datetime parameter's placeholder (use with {@link SqlDialect.time}). */
  readonly timeParam: string;
  /** A datetime parameter's value. */
  time(at: Date): unknown;
  /** A JSON object built from column expressions, as text. */
  jsonObject(pairs: Record<string, string>): string;
  /**
   * The clause that locks the rows a SELECT reads until the transaction ends, or null where a
   * transaction needs none: a SQLite transaction holds the database's write lock from its
   * start (see prisma-store.ts), so no other writer runs beside it.
   */
  readonly forUpdate: string | null;
  /**
   * A statement taking a lock on a text key (one `?`) until the transaction ends, so that
   * transactions naming the same key take turns although no row exists yet to lock; null where
   * transactions already run one at a time (SQLite).
   */
  readonly lockKey: string | null;
}

function pairsSql(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([key, expr]) => `'${key.replace(/'/g, "''")}', ${expr}`)
    .join(', ');
}

/**
 * SQLite through Prisma's better-sqlite3 adapter: datetimes are integer milliseconds (see
 * sqlite.ts), booleans 0/1 (TRUE and FALSE are their keywords).
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  sql: (text) => text,
  timeParam: '?',
  time: (at) => at.getTime(),
  jsonObject: (pairs) => `json_object(${pairsSql(pairs)})`,
  forUpdate: null,
  lockKey: null,
};

/**
 * PostgreSQL through Prisma's pg adapter: Prisma keeps DateTime as `timestamp(3)` in UTC, so a
 * datetime goes in as ISO text cast to timestamp (the zone suffix is dropped, the value is UTC).
 */
export const postgresDialect: SqlDialect = {
  name: 'postgresql',
  sql: (text) => {
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  },
  timeParam: 'CAST(? AS TIMESTAMP(3))',
  time: (at) => at.toISOString(),
  jsonObject: (pairs) => `json_build_object(${pairsSql(pairs)})::text`,
  forUpdate: 'FOR UPDATE',
  // A transaction-level advisory lock on a 64-bit hash of the key (a collision only makes two
  // keys take turns).
  lockKey: 'SELECT pg_advisory_xact_lock(hashtextextended(?, 0))',
};
