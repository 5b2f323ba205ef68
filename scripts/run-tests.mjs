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
import { URL } from 'node:url';
import pg from 'pg';

const TEST_DATABASE_PREFIX = 'tasdeed_t_';

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

/** The URL without its password, for printing. */
function shown(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error?.code === 'EPERM'; // someone else's process, alive
  }
}

/**
 * Drops this run's test databases and those a killed run left behind: named after a process
 * that is gone, or (older names, without a run) unused.
 */
async function dropLeftovers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname`,
      [TEST_DATABASE_PREFIX],
    );
    let dropped = 0;
    for (const { datname } of rows) {
      const run = new RegExp(`^${TEST_DATABASE_PREFIX}r(\\d+)_`).exec(datname)?.[1];
      if (run && Number(run) !== process.pid && alive(Number(run))) continue;
      const name = `"${datname.replace(/"/g, '""')}"`;
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name}${run ? ' WITH (FORCE)' : ''}`);
        dropped++;
      } catch (error) {
        // 55006 object_in_use: an older name in use by a run going on.
        if (error?.code !== '55006') throw error;
      }
    }
    return dropped;
  } finally {
    await client.end().catch(() => undefined);
  }
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
