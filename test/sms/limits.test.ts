import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplyCap, SmsRateLimiter, TokenBucket } from '../../src/sms/limits.js';

function fakeClock(start = 0) {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('TokenBucket', () => {
  it('admits a burst up to its capacity, then asks to wait', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 10, clock);
    for (let i = 0; i < 10; i++) assert.deepEqual(bucket.tryTake(), { ok: true });
    assert.deepEqual(bucket.tryTake(), { ok: false, retryAfterMs: 100 });
    clock.advance(100);
    assert.deepEqual(bucket.tryTake(), { ok: true });
  });

  it('holds the average rate over time', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 10, clock);
    let sent = 0;
    for (let ms = 0; ms < 10_000; ms += 10) {
      while (bucket.tryTake().ok) sent++;
      clock.advance(10);
    }
    assert.ok(sent <= 10 + 100, `sent ${sent} in 10 s at 10/s`);
    assert.ok(sent >= 100, `sent ${sent}`);
  });

  it('admits a message larger than the capacity when full, and then owes the time', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1, 1, clock);
    assert.deepEqual(bucket.tryTake(3), { ok: true });
    assert.equal(bucket.available(), -2);
    assert.deepEqual(bucket.tryTake(1), { ok: false, retryAfterMs: 3000 });
    clock.advance(3000);
    assert.deepEqual(bucket.tryTake(1), { ok: true });
  });

  it('does not refill when the clock goes backwards', () => {
    const clock = fakeClock(10_000);
    const bucket = new TokenBucket(1, 1, clock);
    assert.equal(bucket.tryTake().ok, true);
    clock.advance(-5000);
    assert.equal(bucket.tryTake().ok, false);
  });
});

describe('SmsRateLimiter', () => {
  it('keeps one bucket per gateway, in parts: Android at one SIM’s rate', () => {
    const clock = fakeClock();
    const limiter = new SmsRateLimiter({ smsPerSecond: 10, smsPerSecondAndroid: 1 }, clock);
    assert.equal(limiter.tryAcquire('android', 1).ok, true);
    const held = limiter.tryAcquire('android', 1);
    assert.deepEqual(held, { ok: false, retryAfterMs: 1000 });
    for (let i = 0; i < 5; i++) assert.equal(limiter.tryAcquire('twilio', 2).ok, true);
    assert.equal(limiter.tryAcquire('twilio', 1).ok, false);
    clock.advance(1000);
    assert.equal(limiter.tryAcquire('android', 1).ok, true);
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
