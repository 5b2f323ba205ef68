/**
 * Opens the configured database: applies pending migrations, then hands the core a Store.
 * SQLite (the embedded default, one process owns the file) or PostgreSQL (several instances
 * share it, docs/design.md §10), behind the same Store.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import type { Store } from '../core/ports/store.port.js';
import { postgresDialect } from './dialect.js';
import { migrateSqlite } from './migrate.js';
import { createPostgresClient, migratePostgres } from './postgres.js';
import { PrismaStore } from './prisma-store.js';
import { createSqliteClient } from './sqlite.js';

export interface Database {
  readonly kind: 'sqlite' | 'postgresql';
  store: PrismaStore & Store;
  /**
   * Takes a role only one instance may hold at a time (e.g. the Telegram long-polling
   * consumer) for as long as this process runs; false when another instance holds it.
   * On SQLite one process owns the file, so it always succeeds.
   */
  holdExclusive(role: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.kind === 'postgresql') return openPostgres(config.url);
  await migrateSqlite(config.file);
  releaseLeases(config.file);
  const client = createSqliteClient(config.file);
  await client.$connect();
  return {
    kind: 'sqlite',
    store: new PrismaStore(client),
    holdExclusive: () => Promise.resolve(true),
    close: () => client.$disconnect(),
  };
}

async function openPostgres(url: string): Promise<Database> {
  await migratePostgres(url);
  const client = createPostgresClient(url);
  await client.$connect();
  // Roles are session advisory locks on one dedicated connection: a process that dies
  // releases them with its connection.
  let locks: pg.Client | null = null;
  return {
    kind: 'postgresql',
    store: new PrismaStore(client, { dialect: postgresDialect }),
    async holdExclusive(role) {
      if (!locks) {
        locks = new pg.Client({ connectionString: url });
        await locks.connect();
      }
      const result = await locks.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
        [`tasdeed:${role}`],
      );
      return result.rows[0]?.ok === true;
    },
    async close() {
      await locks?.end().catch(() => undefined);
      await client.$disconnect();
    },
  };
}

/**
 * On SQLite one process owns the file (docs/design.md §10), so any lease found at start belongs to a
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
