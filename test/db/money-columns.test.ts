/**
 * Money columns hold 64-bit integers on PostgreSQL as they always did on SQLite: a database
 * created at migration 0011 (32-bit INTEGER amounts) with rows in it migrates to BIGINT keeping
 * every value, and then stores and reads back amounts past 32 bits through the store.
 *
 * Run when TEST_DATABASE_URL is set; skipped otherwise, with NO_POSTGRES as the reason.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { qirsh } from '../../src/core/money.js';
import { readMigrationFiles } from '../../src/db/migrate.js';
import { DEFAULT_POSTGRES_MIGRATIONS_DIR, migratePostgres } from '../../src/db/postgres.js';
import { connectTo } from '../support/db.js';
import { createTestDatabase, onlyPostgres, type TestDatabase } from '../support/pg.js';

const MONEY_COLUMNS = [
  'Bill.amountMinor',
  'Payment.amountMinor',
  'Payment.confirmedAmountMinor',
  'PaymentEvent.amountMinor',
];
const INT32_MAX = 2_147_483_647;

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

async function columnTypes(url: string): Promise<string[]> {
  const rows = await query<{ t: string; c: string; type: string }>(
    url,
    `SELECT table_name AS t, column_name AS c, data_type AS type FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name IN ('amountMinor', 'confirmedAmountMinor')
      ORDER BY 1, 2`,
  );
  return rows.map((r) => `${r.t}.${r.c} ${r.type}`);
}

describe('PostgreSQL money columns', onlyPostgres, () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await createTestDatabase();
    // The migrations as they were up to 0011, applied to an empty database.
    dir = mkdtempSync(join(tmpdir(), 'tasdeed-migrations-'));
    for (const file of readMigrationFiles(DEFAULT_POSTGRES_MIGRATIONS_DIR)) {
      if (file.name < '0012')
        copyFileSync(join(DEFAULT_POSTGRES_MIGRATIONS_DIR, file.name), join(dir, file.name));
    }
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('a database at 0011 with rows migrates to BIGINT keeping every amount, then takes 3,000,000,000', async () => {
    const upTo11 = await migratePostgres(db.url, dir);
    assert.equal(upTo11.applied.at(-1), '0011_sms_part_resends.sql');
    assert.deepEqual(
      await columnTypes(db.url),
      MONEY_COLUMNS.map((c) => `${c} integer`),
    );
    await query(
      db.url,
      `INSERT INTO "Bill" ("billerId", "billId", "account", "period", "amountMinor", "currency",
                           "dueDate", "status", "fetchedAt")
       VALUES ('electricity', 'B-1', '1000101', '9-10', $1, 'SYP', '2026-11-28', 'unpaid', NOW())`,
      [INT32_MAX],
    );
    await query(
      db.url,
      `INSERT INTO "Payment" ("id", "subscriberId", "identityId", "billerId", "account", "billId",
                              "amountMinor", "currency", "channelId", "payerAddress", "status",
                              "heldReason", "confirmedAmountMinor", "deadlineAt", "updatedAt")
       VALUES ('P-0000000001', 's1', 'i1', 'electricity', '1000101', 'B-1', $1, 'SYP', 'wallet',
               '+963944000001', 'held', 'amount_mismatch', $2, NOW(), NOW())`,
      [1_875_000, INT32_MAX],
    );
    await query(
      db.url,
      `INSERT INTO "PaymentEvent" ("id", "channelId", "eventId", "paymentId", "source", "status",
                                   "amountMinor", "outcome")
       VALUES ('e1', 'wallet', 'ev-1', 'P-0000000001', 'webhook', 'succeeded', $1, 'held'),
              ('e2', 'wallet', 'ev-2', 'P-0000000001', 'webhook', 'pending', NULL, 'ignored')`,
      [-INT32_MAX - 1],
    );
    // One past the 32-bit range is refused at 0011: the bug this migration fixes.
    await assert.rejects(
      query(db.url, `UPDATE "Bill" SET "amountMinor" = $1`, [INT32_MAX + 1]),
      /out of range for type integer/,
    );

    const rest = await migratePostgres(db.url);
    assert.deepEqual(
      rest.applied.filter((name) => name.startsWith('0012')),
      ['0012_money_bigint.sql'],
    );
    assert.deepEqual(
      await columnTypes(db.url),
      MONEY_COLUMNS.map((c) => `${c} bigint`),
    );
    const kept = await query<{ a: string; b: string | null }>(
      db.url,
      `SELECT "amountMinor"::text AS a, NULL AS b FROM "Bill"
       UNION ALL SELECT "amountMinor"::text, "confirmedAmountMinor"::text FROM "Payment"
       UNION ALL (SELECT "amountMinor"::text, NULL FROM "PaymentEvent" ORDER BY "id")`,
    );
    assert.deepEqual(kept, [
      { a: String(INT32_MAX), b: null },
      { a: '1875000', b: String(INT32_MAX) },
      { a: String(-INT32_MAX - 1), b: null },
      { a: null, b: null },
    ]);

    // Through the store: amounts past 32 bits go in and come back as numbers.
    const { store, close } = connectTo(db.url);
    try {
      const before = await store.getPayment('P-0000000001');
      assert.equal(before?.amountMinor, 1_875_000);
      assert.equal(before?.confirmedAmountMinor, INT32_MAX);
      await store.updatePayment('P-0000000001', 'held', {
        confirmedAmountMinor: qirsh(3_000_000_000),
      });
      const after = await store.getPayment('P-0000000001');
      assert.equal(after?.confirmedAmountMinor, 3_000_000_000);
      const events = await store.paymentEvents('P-0000000001');
      assert.deepEqual(events.map((e) => e.amountMinor).sort(), [-INT32_MAX - 1, null]);
    } finally {
      await close();
    }
  });
});
