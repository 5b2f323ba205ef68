import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplyCap } from '../../src/sms/limits.js';

function fakeClock(start = 0) {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('ReplyCap', () => {
  it('allows at most N replies to one sender in a sliding hour', () => {
    const clock = fakeClock();
    const cap = new ReplyCap(20, clock);
    for (let i = 0; i < 20; i++) {
      assert.equal(cap.tryReply('+963944123456').ok, true);
      clock.advance(60_000);
    }
    const held = cap.tryReply('+963944123456');
    assert.equal(held.ok, false);
    // The first reply was at t=0; it leaves the window at t=1 h, 40 minutes from now (t=20 min).
    assert.deepEqual(held, { ok: false, retryAfterMs: 40 * 60_000 });
    assert.equal(cap.tryReply('+963955000111').ok, true, 'another sender is not held');
    clock.advance(40 * 60_000 + 1);
    assert.equal(cap.tryReply('+963944123456').ok, true);
    assert.equal(cap.count('+963944123456'), 20);
  });

  it('forgets quiet senders', () => {
    const clock = fakeClock();
    const cap = new ReplyCap(1, clock);
    cap.tryReply('+963944123456');
    clock.advance(2 * 3_600_000);
    assert.equal(cap.tryReply('+963955000111').ok, true);
    assert.equal(cap.count('+963944123456'), 0);
  });
});
