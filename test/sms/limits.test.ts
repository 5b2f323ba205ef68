import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartsLimiter, ReplyCap } from '../../src/sms/limits.js';

function fakeClock(start = 0) {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('PartsLimiter', () => {
  it('admits at most `rate` parts in any one-second window, per gateway', () => {
    const clock = fakeClock(10_000);
    const limiter = new PartsLimiter({ twilio: 2, android: 1 }, clock);
    assert.equal(limiter.tryAcquire('twilio', 1).ok, true);
    clock.advance(900);
    assert.equal(limiter.tryAcquire('twilio', 1).ok, true);
    // A third part at 950 ms would make 3 in one window.
    clock.advance(50);
    const refused = limiter.tryAcquire('twilio', 1);
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok && refused.retryAfterMs > 0 && refused.retryAfterMs <= 1_000);
    // The Android SIM has its own, slower window.
    assert.equal(limiter.tryAcquire('android', 1).ok, true);
    assert.equal(limiter.tryAcquire('android', 1).ok, false);
    clock.advance(1_000);
    assert.equal(limiter.tryAcquire('twilio', 1).ok, true);
  });

  it('sends a message longer than the rate alone, once the window is empty', () => {
    const clock = fakeClock(0);
    const limiter = new PartsLimiter({ twilio: 2, android: 1 }, clock);
    assert.equal(limiter.tryAcquire('android', 3).ok, true);
    assert.equal(limiter.tryAcquire('android', 1).ok, false);
    clock.advance(1_001);
    assert.equal(limiter.tryAcquire('android', 1).ok, true);
  });

  it('counts a window from when the provider answered', () => {
    const clock = fakeClock(0);
    const limiter = new PartsLimiter({ twilio: 1, android: 1 }, clock);
    const first = limiter.tryAcquire('twilio', 1);
    assert.ok(first.ok);
    clock.advance(800);
    first.sent();
    clock.advance(500);
    assert.equal(limiter.tryAcquire('twilio', 1).ok, false);
    clock.advance(600);
    assert.equal(limiter.tryAcquire('twilio', 1).ok, true);
  });
});

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
