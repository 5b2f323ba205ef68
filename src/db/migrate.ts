/**
 * The project's own migration runner (Prisma's migrate engine cannot run offline).
 *
 * Migrations are the `*.sql` files of one directory per dialect, applied in name order, each in
 * its own transaction together with its bookkeeping row in `_tasdeed_migrations` (name, sha256
 * checksum of the file, time applied). A migration file must not contain BEGIN/COMMIT itself. A file that was applied and then edited, or that
 * disappeared, stops the run: history is never rewritten, a new migration is written instead.
 *
 * The dialect-neutral part (reading the files, checksums, the plan) is separate from the
 * executor, so that a PostgreSQL executor can be added next to the SQLite one.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export const MIGRATIONS_TABLE = '_tasdeed_migrations';

/** Where the SQLite migrations of this repository live (relative to this file, not to cwd). */
export const DEFAULT_SQLITE_MIGRATIONS_DIR = fileURLToPath(
  new URL('../../prisma/migrations/sqlite', import.meta.url),
);

export type MigrationErrorCode = 'MIGRATION.EDITED' | 'MIGRATION.MISSING' | 'MIGRATION.FAILED';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    /** The migration file concerned. */
    readonly migration: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256, hex, of the file's bytes. */
  checksum: string;
}

export interface AppliedMigration {
  name: string;
  checksum: string;
}

export function checksumOf(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The `*.sql` files of `dir`, in name order. */
export function readMigrationFiles(dir: string): MigrationFile[] {
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.sql'))
    .map((entry) => entry.name)
    .sort(compareNames);
  return names.map((name) => {
    const bytes = readFileSync(join(dir, name));
    return { name, sql: bytes.toString('utf8'), checksum: checksumOf(bytes) };
  });
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * What is left to apply, in order; throws MigrationError when the history in the database and
 * the files disagree (an applied file edited or missing).
 */
export function planMigrations(
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
  dir = '',
): MigrationFile[] {
  const byName = new Map(files.map((file) => [file.name, file]));
  for (const row of [...applied].sort((a, b) => compareNames(a.name, b.name))) {
    const file = byName.get(row.name);
    if (!file) {
      throw new MigrationError(
        'MIGRATION.MISSING',
        row.name,
        `Migration ${row.name} was applied to this database but its file is missing from ` +
          `${dir || 'the migrations directory'}. Restore the file; applied migrations are never removed.`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        'MIGRATION.EDITED',
        row.name,
        `Migration ${row.name} was edited after being applied (checksum ${file.checksum} ≠ ` +
          `recorded ${row.checksum}). Restore its original content and write a new migration ` +
          `for the change instead.`,
      );
    }
  }
  const done = new Set(applied.map((row) => row.name));
  return files.filter((file) => !done.has(file.name));
}

/** What a dialect must provide to run migrations. */
export interface MigrationExecutor {
  /** Creates the bookkeeping table if missing. */
  ensureTable(): void | Promise<void>;
  applied(): AppliedMigration[] | Promise<AppliedMigration[]>;
  /**
   * Applies one migration and records it in one transaction. Returns false when another process
   * recorded it in the meantime (nothing done).
   */
  apply(file: MigrationFile, appliedAt: Date): boolean | Promise<boolean>;
  close(): void | Promise<void>;
}

/** Runs the plan of `dir` through an executor; the executor is closed afterwards. */
export async function runMigrations(
  executor: MigrationExecutor,
  dir: string,
): Promise<{ applied: string[] }> {
  try {
    await executor.ensureTable();
    const files = readMigrationFiles(dir);
    const pending = planMigrations(files, await executor.applied(), dir);
    const applied: string[] = [];
    for (const file of pending) {
      let done: boolean;
      try {
        done = await executor.apply(file, new Date());
      } catch (error) {
        if (error instanceof MigrationError) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationError(
          'MIGRATION.FAILED',
          file.name,
          `Migration ${file.name} failed and was rolled back: ${reason}`,
          { cause: error },
        );
      }
      if (done) applied.push(file.name);
    }
    return { applied };
  } finally {
    await executor.close();
  }
}

/** The SQLite executor over better-sqlite3 (synchronous; one connection, opened for the run). */
export class SqliteMigrationExecutor implements MigrationExecutor {
  private readonly db: Database.Database;

  constructor(filePath: string) {
    mkdirSync(dirname(resolve(filePath)), { recursive: true });
    this.db = new Database(filePath, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    // Rebuilding a table (SQLite's usual way to alter one) needs foreign keys off; the pragma is
    // a no-op inside a transaction, so it is set for the whole run and each migration is
    // checked with foreign_key_check before it commits.
    this.db.pragma('foreign_keys = OFF');
  }

  ensureTable(): void {
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
        "name" TEXT PRIMARY KEY,
        "checksum" TEXT NOT NULL,
        "applied_at" TEXT NOT NULL
      )`,
    );
  }

  applied(): AppliedMigration[] {
    return this.db
      .prepare<[], AppliedMigration>(`SELECT "name", "checksum" FROM "${MIGRATIONS_TABLE}"`)
      .all();
  }

  apply(file: MigrationFile, appliedAt: Date): boolean {
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have applied it between the plan and this lock.
      const existing = db
        .prepare<[string], { checksum: string }>(
          `SELECT "checksum" FROM "${MIGRATIONS_TABLE}" WHERE "name" = ?`,
        )
        .get(file.name);
      if (existing) {
        db.exec('ROLLBACK');
        // Same check as the plan: throws MIGRATION.EDITED when the recorded checksum differs.
        planMigrations([file], [{ name: file.name, checksum: existing.checksum }]);
        return false;
      }
      db.exec(file.sql);
      const violations = db.prepare('PRAGMA foreign_key_check').all();
      if (violations.length > 0) {
        throw new Error(
          `foreign key violations after the migration: ${JSON.stringify(violations)}`,
        );
      }
      db.prepare(
        `INSERT INTO "${MIGRATIONS_TABLE}" ("name", "checksum", "applied_at") VALUES (?, ?, ?)`,
      ).run(file.name, file.checksum, appliedAt.toISOString());
      db.exec('COMMIT');
      return true;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Applies the pending migrations of `migrationsDir` to the SQLite database at `filePath`
 * (created, with its directory, if missing). Throws MigrationError when the history disagrees
 * with the files or a migration fails (that migration is rolled back; earlier ones stay).
 */
export async function migrateSqlite(
  filePath: string,
  migrationsDir = DEFAULT_SQLITE_MIGRATIONS_DIR,
): Promise<{ applied: string[] }> {
  return runMigrations(new SqliteMigrationExecutor(filePath), migrationsDir);
}
