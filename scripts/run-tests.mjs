// Runs every test file under test/ with node:test through tsx.
// node:test on Node 20 takes no glob and, given no files, "passes" having run nothing,
// so the files are listed here and an empty list is an error.
//
// The database: SQLite unless TEST_DATABASE_URL names a PostgreSQL server, on which each test
// then creates (and drops) databases named tasdeed_t_r<run>_…, <run> being this process's id
// (TASDEED_TEST_RUN). Databases of runs whose process is gone (a killed run) are dropped first,
// this run's own at the end; those of a run going on beside this one are left alone.
// REQUIRE_POSTGRES=1 (CI) makes a run without a reachable server fail instead of skipping the
// PostgreSQL tests.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { dropLeftovers, shownUrl as shown } from './test-databases.mjs';

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

const filters = process.argv.slice(2);
const files = findTests('test').filter(
  (f) => filters.length === 0 || filters.some((p) => f.includes(p)),
);
if (files.length === 0) fail('no test files found under test/');

const databaseUrl = process.env.TEST_DATABASE_URL?.trim() || '';
const requirePostgres = process.env.REQUIRE_POSTGRES === '1';
if (databaseUrl) {
  let dropped;
  try {
    dropped = await dropLeftovers(databaseUrl);
  } catch (error) {
    fail(
      `tests: the PostgreSQL server of TEST_DATABASE_URL (${shown(databaseUrl)}) does not answer: ` +
        `${error instanceof Error ? error.message : String(error)}`,
    );
  }
  console.log(
    `tests: on PostgreSQL, ${shown(databaseUrl)} (TEST_DATABASE_URL)` +
      (dropped > 0 ? `; ${dropped} leftover test database(s) dropped` : ''),
  );
} else if (requirePostgres) {
  fail(
    'tests: REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: the PostgreSQL tests would be skipped',
  );
} else {
  console.log(
    'tests: on SQLite (TEST_DATABASE_URL is not set: the PostgreSQL-only tests are skipped)',
  );
}

// Test files run side by side (node:test's default on Node 20 is one less than the cores: one
// at a time on a 2-core machine). Most of a file's time is spent waiting on child processes,
// sockets and timers, so two at once cut the wall time (more made a loaded 2-core machine miss
// its waits); TEST_CONCURRENCY overrides.
const concurrency =
  Number(process.env.TEST_CONCURRENCY ?? '') || Math.max(2, availableParallelism() - 1);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      ...(databaseUrl ? { TEST_DATABASE_URL: databaseUrl } : {}),
      TASDEED_TEST_RUN: String(process.pid),
    },
  },
);
if (databaseUrl) await dropLeftovers(databaseUrl).catch(() => undefined);
process.exit(result.status ?? 1);
