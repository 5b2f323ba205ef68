/**
 * mapBounded: the one pool of bounded concurrency for calls to outside systems (BILL over every
 * followed account, the reminders' refresh of due accounts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapBounded } from '../../src/core/bounded.js';

describe('mapBounded', () => {
  it('runs at most `limit` calls at once and keeps the input order', async () => {
    let running = 0;
    let most = 0;
    const results = await mapBounded([5, 1, 4, 2, 3, 0, 2], 3, async (ms) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, ms * 5));
      running--;
      return ms * 10;
    });
    assert.deepEqual(results, [50, 10, 40, 20, 30, 0, 20]);
    assert.equal(most, 3);
  });

  it('takes fewer workers than items, and none for no items', async () => {
    assert.deepEqual(await mapBounded([1], 8, (n) => Promise.resolve(n + 1)), [2]);
    assert.deepEqual(await mapBounded([], 3, () => Promise.resolve(0)), []);
  });
});
