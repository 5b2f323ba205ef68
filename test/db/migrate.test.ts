import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  checksumOf,
  DEFAULT_SQLITE_MIGRATIONS_DIR,
  MIGRATIONS_TABLE,
  MigrationError,
  migrateSqlite,
} from '../../src/db/migrate.js';

interface Row {
  name: string;
  checksum: string;
  applied_at: string;
}

function recorded(file: string): Row[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], Row>(`SELECT * FROM "${MIGRATIONS_TABLE}" ORDER BY "name"`).all();
  } finally {
    db.close();
  }
}

function tableExists(file: string, table: string): boolean {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table) !==
      undefined
    );
  } finally {
    db.close();
  }
}

const shippedFiles = readdirSync(DEFAULT_SQLITE_MIGRATIONS_DIR)
  .filter((name) => name.endsWith('.sql'))
  .sort();

void describe('migrateSqlite', () => {
  let dir: string;
  let file: string;
  let migrations: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tasdeed-migrate-'));
    // A directory that does not exist yet: the runner creates it.
    file = join(dir, 'nested', 'data', 'app.db');
    migrations = join(dir, 'migrations');
    cpSync(DEFAULT_SQLITE_MIGRATIONS_DIR, migrations, { recursive: true });
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  void test('a fresh database gets every migration, recorded with its checksum, in WAL mode', async () => {
    assert.ok(shippedFiles.length > 0);
    const result = await migrateSqlite(file);
    assert.deepEqual(result.applied, shippedFiles);

    const rows = recorded(file);
    assert.deepEqual(
      rows.map((row) => row.name),
      shippedFiles,
    );
    for (const row of rows) {
      const content = readFileSync(join(DEFAULT_SQLITE_MIGRATIONS_DIR, row.name));
      assert.equal(row.checksum, checksumOf(content));
      assert.match(row.checksum, /^[0-9a-f]{64}$/);
      assert.ok(!Number.isNaN(Date.parse(row.applied_at)));
    }
    assert.ok(tableExists(file, 'Payment'));

    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  void test('a second run applies nothing', async () => {
    await migrateSqlite(file);
    const before = recorded(file);
    const again = await migrateSqlite(file);
    assert.deepEqual(again.applied, []);
    assert.deepEqual(recorded(file), before);
  });

  void test('an applied migration edited afterwards is refused, and nothing else is applied', async () => {
    await migrateSqlite(file, migrations);
    const first = shippedFiles[0];
    assert.ok(first);
    writeFileSync(
      join(migrations, first),
      readFileSync(join(migrations, first), 'utf8') + '\n-- edited\n',
    );
    writeFileSync(
      join(migrations, '9999_later.sql'),
      'CREATE TABLE "Later" ("id" TEXT PRIMARY KEY);',
    );

    await assert.rejects(migrateSqlite(file, migrations), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.code, 'MIGRATION.EDITED');
      assert.equal(error.migration, first);
      assert.match(error.message, new RegExp(first.replace('.', '\\.')));
      assert.match(error.message, /edited after being applied/);
      assert.match(error.message, /[Rr]estore/);
      assert.match(error.message, /new migration/);
      return true;
    });
    assert.deepEqual(
      recorded(file).map((row) => row.name),
      shippedFiles,
    );
    assert.equal(tableExists(file, 'Later'), false);
  });

  void test('an applied migration whose file is missing is refused', async () => {
    writeFileSync(
      join(migrations, '9000_extra.sql'),
      'CREATE TABLE "Extra" ("id" TEXT PRIMARY KEY);',
    );
    await migrateSqlite(file, migrations);
    rmSync(join(migrations, '9000_extra.sql'));
    await assert.rejects(migrateSqlite(file, migrations), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.code, 'MIGRATION.MISSING');
      assert.match(error.message, /9000_extra\.sql/);
      return true;
    });
  });

  void test('a migration added later is applied, and only it', async () => {
    await migrateSqlite(file, migrations);
    writeFileSync(
      join(migrations, '0002_later.sql'),
      'CREATE TABLE "Later" ("id" TEXT PRIMARY KEY);\nCREATE INDEX "Later_id" ON "Later"("id");\n',
    );
    const result = await migrateSqlite(file, migrations);
    assert.deepEqual(result.applied, ['0002_later.sql']);
    assert.ok(tableExists(file, 'Later'));
    const names = recorded(file).map((row) => row.name);
    assert.deepEqual(names, [...shippedFiles, '0002_later.sql'].sort());
  });

  void test('a failing migration rolls back its own transaction; earlier ones stay', async () => {
    writeFileSync(
      join(migrations, '9002_good.sql'),
      'CREATE TABLE "Good" ("id" TEXT PRIMARY KEY);',
    );
    writeFileSync(
      join(migrations, '9003_bad.sql'),
      'CREATE TABLE "Partial" ("id" TEXT PRIMARY KEY);\nINSERT INTO "Partial" VALUES (\'x\');\nTHIS IS NOT SQL;\n',
    );
    writeFileSync(
      join(migrations, '9004_after.sql'),
      'CREATE TABLE "After" ("id" TEXT PRIMARY KEY);',
    );

    await assert.rejects(migrateSqlite(file, migrations), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.code, 'MIGRATION.FAILED');
      assert.equal(error.migration, '9003_bad.sql');
      assert.match(error.message, /9003_bad\.sql/);
      return true;
    });
    const names = recorded(file).map((row) => row.name);
    assert.deepEqual(names, [...shippedFiles, '9002_good.sql'].sort());
    assert.ok(tableExists(file, 'Good'));
    assert.equal(tableExists(file, 'Partial'), false);
    assert.equal(tableExists(file, 'After'), false);

    // Fixed, the run continues where it stopped.
    writeFileSync(
      join(migrations, '9003_bad.sql'),
      'CREATE TABLE "Partial" ("id" TEXT PRIMARY KEY);',
    );
    const result = await migrateSqlite(file, migrations);
    assert.deepEqual(result.applied, ['9003_bad.sql', '9004_after.sql']);
  });

  void test('files other than *.sql are ignored and names are applied in order', async () => {
    writeFileSync(join(migrations, 'README.md'), 'not a migration');
    writeFileSync(
      join(migrations, '0010_b.sql'),
      'CREATE TABLE "B" ("id" TEXT PRIMARY KEY, "a" TEXT REFERENCES "A"("id"));',
    );
    writeFileSync(join(migrations, '0005_a.sql'), 'CREATE TABLE "A" ("id" TEXT PRIMARY KEY);');
    const result = await migrateSqlite(file, migrations);
    assert.deepEqual(result.applied, [...shippedFiles, '0005_a.sql', '0010_b.sql'].sort());
    assert.ok(existsSync(file));
  });
});
