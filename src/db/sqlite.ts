/**
 * The SQLite connection: a Prisma client over better-sqlite3 (driver adapter; Prisma 7 has no
 * built-in engine for it).
 *
 * Datetimes are stored as integers (milliseconds since the epoch, `timestampFormat:
 * 'unixepoch-ms'`), whatever the `DATETIME` declared type of the column. SQL written by hand
 * that inserts a datetime must therefore give an integer too: the migrations' `DEFAULT
 * CURRENT_TIMESTAMP` would store text, which Prisma reads back correctly but which never
 * compares equal, lower or greater with the integers Prisma passes in filters.
 *
 * One PrismaClient holds ONE better-sqlite3 connection. Queries that do not belong to an open
 * interactive transaction run on that same connection and so join the transaction (and are lost
 * if it rolls back): use the client through PrismaStore, which serialises its operations with
 * its transactions, and use one client per database file per process.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.js';

/** How long a statement waits for another connection's write lock before failing (SQLITE_BUSY). */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * The file path of a SQLite URL: `file:./data/x.db` (relative to the current directory),
 * `file:/abs/x.db`, `file:///abs/x.db`; a query string (`?mode=…`) is ignored. The path returned
 * is absolute. Throws on anything else (another scheme, an in-memory database, no path).
 */
export function sqliteFileFromUrl(url: string): string {
  const trimmed = url.trim();
  if (!trimmed.startsWith('file:')) {
    throw new Error(`not a SQLite file URL (expected file:…): ${url}`);
  }
  let path: string;
  if (trimmed.startsWith('file://')) {
    try {
      path = fileURLToPath(trimmed.split('?')[0] ?? '');
    } catch (error) {
      throw new Error(`not a usable SQLite file URL: ${url}`, { cause: error });
    }
  } else {
    path = decodeURIComponent((trimmed.slice('file:'.length).split('?')[0] ?? '').trim());
  }
  if (path === '' || path === ':memory:' || path.startsWith(':memory:')) {
    throw new Error(
      `a SQLite file URL needs a file path (in-memory databases are not supported): ${url}`,
    );
  }
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

/**
 * A Prisma client on the SQLite file at `filePath` (which must already be migrated: see
 * migrateSqlite). Busy timeout 5000 ms; foreign keys are enforced (better-sqlite3's default).
 */
export function createSqliteClient(filePath: string): PrismaClient {
  const adapter = new PrismaBetterSqlite3(
    { url: filePath, timeout: SQLITE_BUSY_TIMEOUT_MS },
    { timestampFormat: 'unixepoch-ms' },
  );
  return new PrismaClient({ adapter });
}
