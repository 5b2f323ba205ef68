// The PostgreSQL databases that test runs (scripts/run-tests.mjs) and drills (drill/index.ts)
// create on the TEST_DATABASE_URL server: each is named tasdeed_t_r<run>_…, <run> being the id of
// the process that runs them (TASDEED_TEST_RUN), so that a run can drop what a killed run left
// behind and never touch the databases of a run going on beside it.
import { URL } from 'node:url';
import pg from 'pg';

export const TEST_DATABASE_PREFIX = 'tasdeed_t_';

/** The URL without its password, for printing. */
export function shownUrl(url) {
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
 * Drops the test databases of run `run` (this process's by default) and those a killed run left
 * behind: named after a process that is gone, or (older names, without a run) unused. Returns
 * how many were dropped.
 */
export async function dropLeftovers(url, run = process.pid) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname`,
      [TEST_DATABASE_PREFIX],
    );
    let dropped = 0;
    for (const { datname } of rows) {
      const owner = new RegExp(`^${TEST_DATABASE_PREFIX}r(\\d+)_`).exec(datname)?.[1];
      if (owner && Number(owner) !== run && alive(Number(owner))) continue;
      const name = `"${datname.replace(/"/g, '""')}"`;
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name}${owner ? ' WITH (FORCE)' : ''}`);
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
