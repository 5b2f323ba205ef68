/**
 * PostgreSQL (docs/design.md §10): the database several Tasdeed instances share.
 *
 * - The Prisma client is generated from the same models as SQLite's (scripts/prisma-generate.mjs
 *   derives src/generated/schema.postgresql.prisma) and reached through @prisma/adapter-pg.
 * - Migrations are prisma/migrations/postgresql/*.sql, applied by the project's runner
 *   (src/db/migrate.ts) under a session advisory lock: instances that start together wait for
 *   the first to migrate, then find nothing left to do.
 */
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient as PgPrismaClient } from '../generated/prisma-pg/client.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import {
  MIGRATIONS_TABLE,
  planMigrations,
  runMigrations,
  type AppliedMigration,
  type MigrationExecutor,
  type MigrationFile,
} from './migrate.js';

export const DEFAULT_POSTGRES_MIGRATIONS_DIR = fileURLToPath(
  new URL('../../prisma/migrations/postgresql', import.meta.url),
);

/** The advisory lock key of the migration runner (any constant shared by all instances). */
export const MIGRATION_LOCK_KEY = 7_361_001;

/** Connections per instance (pg's pool). */
const POOL_SIZE = 10;

/**
 * A Prisma client on PostgreSQL. Both generated clients come from the same models and expose the
 * same model delegates; only raw SQL (the store's dialect) and transaction options differ, so
 * the store takes this client under the SQLite client's type.
 */
export function createPostgresClient(url: string): PrismaClient {
  const adapter = new PrismaPg({ connectionString: url, max: POOL_SIZE });
  return new PgPrismaClient({ adapter }) as unknown as PrismaClient;
}

/** The PostgreSQL executor: one connection for the run, holding the migration lock. */
export class PostgresMigrationExecutor implements MigrationExecutor {
  private readonly client: pg.Client;
  private connected: Promise<void> | null = null;

  constructor(url: string) {
    this.client = new pg.Client({ connectionString: url });
  }

  private async ready(): Promise<pg.Client> {
    this.connected ??= (async () => {
      await this.client.connect();
      // Session lock, released on close: instances starting together migrate one at a time.
      await this.client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    })();
    await this.connected;
    return this.client;
  }

  async ensureTable(): Promise<void> {
    const db = await this.ready();
    await db.query(
      `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
        "name" TEXT PRIMARY KEY,
        "checksum" TEXT NOT NULL,
        "applied_at" TEXT NOT NULL
      )`,
    );
  }

  async applied(): Promise<AppliedMigration[]> {
    const db = await this.ready();
    const result = await db.query<AppliedMigration>(
      `SELECT "name", "checksum" FROM "${MIGRATIONS_TABLE}"`,
    );
    return result.rows;
  }

  async apply(file: MigrationFile, appliedAt: Date): Promise<boolean> {
    const db = await this.ready();
    await db.query('BEGIN');
    try {
      const existing = await db.query<{ checksum: string }>(
        `SELECT "checksum" FROM "${MIGRATIONS_TABLE}" WHERE "name" = $1`,
        [file.name],
      );
      const row = existing.rows[0];
      if (row) {
        await db.query('ROLLBACK');
        planMigrations([file], [{ name: file.name, checksum: row.checksum }]);
        return false;
      }
      // A simple query (no parameters) may hold several statements.
      await db.query(file.sql);
      await db.query(
        `INSERT INTO "${MIGRATIONS_TABLE}" ("name", "checksum", "applied_at") VALUES ($1, $2, $3)`,
        [file.name, file.checksum, appliedAt.toISOString()],
      );
      await db.query('COMMIT');
      return true;
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    // Ending the session releases the advisory lock.
    await this.client.end().catch(() => undefined);
  }
}

/** Applies the pending PostgreSQL migrations, once however many instances start together. */
export async function migratePostgres(
  url: string,
  migrationsDir = DEFAULT_POSTGRES_MIGRATIONS_DIR,
): Promise<{ applied: string[] }> {
  return runMigrations(new PostgresMigrationExecutor(url), migrationsDir);
}
