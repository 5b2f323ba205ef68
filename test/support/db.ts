/** A fresh, migrated SQLite database per test (or per suite), deleted afterwards. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { migrateSqlite } from '../../src/db/migrate.js';
import { PrismaStore } from '../../src/db/prisma-store.js';
import { createSqliteClient } from '../../src/db/sqlite.js';

export interface TestStore {
  store: PrismaStore;
  client: PrismaClient;
  /** The database file (its -wal and -shm files sit next to it). */
  file: string;
  /** Disconnects and deletes the database and its directory. */
  close(): Promise<void>;
}

export async function createTestStore(): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-db-'));
  const file = join(dir, 'test.db');
  try {
    await migrateSqlite(file);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const client = createSqliteClient(file);
  const store = new PrismaStore(client);
  let closed = false;
  return {
    store,
    client,
    file,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.$disconnect();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
