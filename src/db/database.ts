/**
 * Opens the configured database: applies pending migrations, then hands the core a Store.
 * PostgreSQL is a second implementation behind the same Store (a later issue).
 */
import type { DatabaseConfig } from '../config/env.js';
import type { Store } from '../core/ports/store.port.js';
import BetterSqlite3 from 'better-sqlite3';
import { migrateSqlite } from './migrate.js';
import { PrismaStore } from './prisma-store.js';
import { createSqliteClient } from './sqlite.js';

export interface Database {
  store: Store;
  close(): Promise<void>;
}

export class UnsupportedDatabaseError extends Error {
  readonly code = 'DB.UNSUPPORTED';
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.kind !== 'sqlite') {
    throw new UnsupportedDatabaseError(
      'DATABASE_URL: PostgreSQL is not supported by this version yet; use file:./data/tasdeed.db',
    );
  }
  await migrateSqlite(config.file);
  releaseLeases(config.file);
  const client = createSqliteClient(config.file);
  await client.$connect();
  return {
    store: new PrismaStore(client),
    close: () => client.$disconnect(),
  };
}

/**
 * On SQLite one process owns the file (DESIGN §10), so any lease found at start belongs to a
 * process that died: its items go back to the queue at once instead of waiting for the lease
 * to expire. (On PostgreSQL other live instances hold leases; there they simply expire.)
 */
function releaseLeases(file: string): number {
  const db = new BetterSqlite3(file);
  try {
    return db
      .prepare(
        `UPDATE "OutboxItem" SET "status" = 'queued', "leaseOwner" = NULL, "leaseUntil" = NULL WHERE "status" = 'leased'`,
      )
      .run().changes;
  } finally {
    db.close();
  }
}
