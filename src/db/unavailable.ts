/**
 * Whether an error means that the database could not be used just now — locked by another
 * connection past the busy timeout, unreachable, timed out, read-only, full — rather than that
 * the work itself is faulty. Workers that set aside a message whose processing fails (so that
 * one poisonous message cannot block the rest) must not set it aside for such an error: the
 * same message succeeds once the database is back, and setting it aside would lose it.
 *
 * Recognised by shape, through wrappers (grammY's BotError `.error`, `.cause`): Prisma's codes
 * for an unreachable or timed-out database, and the driver's own codes (SQLite, PostgreSQL).
 */

/** Prisma: can't reach, timed out, connection closed, pool timeout, transaction API / conflict. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034']);
/** SQLite result codes (better-sqlite3's `code`, Prisma's driverAdapterError originalCode). */
const SQLITE_CODES =
  /^SQLITE_(BUSY|LOCKED|READONLY|IOERR|FULL|CANTOPEN|PROTOCOL|NOMEM)(_[A-Z_]+)?$/;
/** Driver adapter error kinds of a connection that failed rather than a query that was wrong. */
const ADAPTER_KINDS = new Set([
  'SocketTimeout',
  'DatabaseNotReachable',
  'ConnectionClosed',
  'TransactionAlreadyClosed',
  'TooManyConnections',
]);
/** PostgreSQL SQLSTATE classes: 08 connection, 53 resources, 57P admin shutdown; 40001/40P01 retry. */
const PG_STATE = /^(08|53|57P|40001$|40P01$)/;

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const code = field(error, 'code');
  if (typeof code === 'string') {
    if (PRISMA_CODES.has(code) || SQLITE_CODES.test(code)) return true;
    if (field(error, 'severity') !== undefined && PG_STATE.test(code)) return true;
  }
  // A driver adapter error's cause: the driver's own code, or the kind of failure. Prisma puts
  // the adapter error under `meta.driverAdapterError`; a transaction's COMMIT throws it as is
  // (a write refused by the disk, SQLITE_IOERR_WRITE or SQLITE_FULL, surfaces there).
  const originalCode = field(error, 'originalCode');
  if (typeof originalCode === 'string' && SQLITE_CODES.test(originalCode)) return true;
  const kind = field(error, 'kind');
  if (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) return true;
  return (
    isDatabaseUnavailable(field(error, 'error'), depth + 1) ||
    isDatabaseUnavailable(field(error, 'cause'), depth + 1) ||
    isDatabaseUnavailable(field(field(error, 'meta'), 'driverAdapterError'), depth + 1)
  );
}
