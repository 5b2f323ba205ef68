/**
 * The login throttle's table on the run's database (SQLite, or PostgreSQL with
 * TEST_DATABASE_URL): each failure is counted and read back in one statement, so parallel
 * failures from two connections (two instances) get every count once; a window that is over
 * starts again at 1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SqlLoginThrottle } from '../../src/db/login-throttle.js';
import { createTestStore, type Connection, type TestStore } from '../support/db.js';

const WINDOW = 15 * 60_000;

describe('SqlLoginThrottle', () => {
  let db: TestStore;
  let other: Connection;
  before(async () => {
    db = await createTestStore();
    other = db.connect();
  });
  after(async () => {
    await other.close();
    await db.close();
  });

  it('gives 40 parallel failures from two instances the counts 1 to 40, each once', async () => {
    const instances = [new SqlLoginThrottle(db.store), new SqlLoginThrottle(other.store)];
    const now = Date.now();
    const counted = await Promise.all(
      Array.from({ length: 40 }, (_, i) => instances[i % 2]!.countFailure('10.0.0.1', now, WINDOW)),
    );
    assert.deepEqual(
      counted.map((c) => c.failures).sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.deepEqual(await instances[0]!.get('10.0.0.1'), { failures: 40, windowStartMs: now });
  });

  it('starts a new window once the last one is over, and forgets a client that logged in', async () => {
    const throttle = new SqlLoginThrottle(db.store);
    const start = Date.now();
    await throttle.countFailure('10.0.0.2', start, WINDOW);
    assert.equal((await throttle.countFailure('10.0.0.2', start + 1_000, WINDOW)).failures, 2);
    const later = start + WINDOW + 1;
    assert.deepEqual(await throttle.countFailure('10.0.0.2', later, WINDOW), {
      failures: 1,
      windowStartMs: later,
    });
    await throttle.clear('10.0.0.2');
    assert.equal(await throttle.get('10.0.0.2'), null);
    assert.equal(await throttle.get('10.0.0.1'), null, 'a window that is over is removed');
  });
});
