/**
 * The rate gates (docs/design.md §8) on a fake time line: the gate's `now` is injected and node:test's
 * mock timers stand in for setTimeout, moved one millisecond at a time, so every grant happens
 * at an exact, repeatable instant and a 20-second schedule runs in a moment.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { lanePriority, PerKeySpacing, RateGate } from '../../src/core/outbox/rate-gate.js';

/** Milliseconds on the fake time line: the gates' `now` and the mocked setTimeout move together. */
class FakeTime {
  t = 1_000_000;
  readonly now = (): number => this.t;

  /** Moves on by `ms`, one millisecond at a time, letting due timers and promises run. */
  async advance(ms: number): Promise<void> {
    await settle();
    for (let i = 0; i < ms; i++) {
      this.t += 1;
      mock.timers.tick(1);
      await settle();
    }
  }

  /** Moves on until `done()` holds (or `limitMs` have passed: the test then fails on its own). */
  async until(done: () => boolean, limitMs = 120_000): Promise<void> {
    await settle();
    for (let i = 0; i < limitMs && !done(); i++) await this.advance(1);
  }
}

/** Lets promise chains (a grant, a release) run to their next timer. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

/** A deterministic pseudo-random latency source (the provider's answer times). */
function latencies(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x % 400;
  };
}

interface Request {
  name: string;
  cost: number;
  grantedAt: number | null;
  releasedAt: number | null;
}

/**
 * Asks the gate for each request at once; each granted request is answered after `latency()`
 * ms on the fake time line (then released).
 */
function ask(
  gate: RateGate,
  time: FakeTime,
  requests: Array<{ name: string; cost?: number; priority?: number }>,
  latency: () => number = () => 0,
  order: string[] = [],
): Request[] {
  return requests.map(({ name, cost = 1, priority = 2 }) => {
    const r: Request = { name, cost, grantedAt: null, releasedAt: null };
    void gate.acquire(cost, priority).then((release) => {
      r.grantedAt = time.now();
      order.push(name);
      const answer = () => {
        r.releasedAt = time.now();
        release();
      };
      const ms = latency();
      if (ms === 0) answer();
      else setTimeout(answer, ms);
    });
    return r;
  });
}

/**
 * The gate's promise: when a request is granted, the requests that may still be seen by the
 * provider within the last window (granted before it and not answered more than a window ago,
 * itself included) cost no more than the cap. Since the provider sees each request somewhere
 * between its grant and its answer, no window at the provider ever holds more than the cap.
 */
function assertWindowHeld(requests: Request[], cap: number, windowMs = 1_000): void {
  for (const r of requests) {
    assert.ok(r.grantedAt !== null && r.releasedAt !== null, `${r.name} was served`);
    let inWindow = 0;
    for (const q of requests) {
      if (q.grantedAt! <= r.grantedAt && q.releasedAt! > r.grantedAt - windowMs) inWindow += q.cost;
    }
    assert.ok(
      inWindow <= cap,
      `${inWindow} units could reach the provider in the window before ${r.name} (cap ${cap})`,
    );
  }
}

describe('RateGate', () => {
  let time: FakeTime;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    time = new FakeTime();
  });
  afterEach(() => {
    mock.timers.reset();
  });

  it('lets the first `rate` requests through at once, then one per answer leaving the window', async () => {
    const gate = new RateGate({ ratePerSecond: 3, now: time.now });
    const start = time.now();
    const rs = ask(
      gate,
      time,
      Array.from({ length: 7 }, (_, i) => ({ name: `b${i}` })),
    );
    await settle();
    assert.deepEqual(
      rs.map((r) => r.grantedAt),
      [start, start, start, null, null, null, null],
    );
    await time.until(() => rs.every((r) => r.releasedAt !== null));
    // Answered at once: the 4th goes a full window after the 1st, the 7th after the 4th.
    assert.deepEqual(
      rs.map((r) => r.grantedAt! - start),
      [0, 0, 0, 1_000, 1_000, 1_000, 2_000],
    );
    assertWindowHeld(rs, 3);
    assert.equal(gate.granted, 7);
  });

  it('never holds more than the rate in any one-second window counted from the answer', async () => {
    const gate = new RateGate({ ratePerSecond: 5, now: time.now });
    const rs = ask(
      gate,
      time,
      Array.from({ length: 60 }, (_, i) => ({ name: `b${i}` })),
      latencies(7),
    );
    await time.until(() => rs.every((r) => r.releasedAt !== null));
    assertWindowHeld(rs, 5);
    // And the gate did not simply stall: everyone went through.
    assert.equal(gate.granted, 60);
    assert.equal(gate.waiting, 0);
  });

  it('counts a slow answer from when it came, not from when the request left', async () => {
    const gate = new RateGate({ ratePerSecond: 2, now: time.now });
    const start = time.now();
    const rs = ask(gate, time, [{ name: 'a' }, { name: 'b' }, { name: 'c' }], () => 1_500);
    await time.until(() => rs.every((r) => r.releasedAt !== null));
    // a and b were answered at +1.5 s: c waits a window after that, not after their start.
    assert.equal(rs[2]!.grantedAt! - start, 2_500);
    assertWindowHeld(rs, 2);
  });

  it('serves a waiting reply before waiting bulk, even when the reply came later', async () => {
    const gate = new RateGate({ ratePerSecond: 1, now: time.now });
    const order: string[] = [];
    const first = ask(gate, time, [{ name: 'bulk-0' }], () => 0, order);
    const bulk = ask(
      gate,
      time,
      [1, 2, 3].map((i) => ({ name: `bulk-${i}`, priority: lanePriority('bulk') })),
      () => 0,
      order,
    );
    await time.advance(300);
    const work = ask(
      gate,
      time,
      [{ name: 'work', priority: lanePriority('work') }],
      () => 0,
      order,
    );
    await time.advance(100);
    const reply = ask(
      gate,
      time,
      [{ name: 'reply', priority: lanePriority('reply') }],
      () => 0,
      order,
    );
    await time.until(() => [...first, ...bulk, ...work, ...reply].every((r) => r.releasedAt));
    assert.deepEqual(order, ['bulk-0', 'reply', 'work', 'bulk-1', 'bulk-2', 'bulk-3']);
    // The reply had the first free slot, a window after bulk-0.
    assert.equal(reply[0]!.grantedAt! - first[0]!.grantedAt!, 1_000);
  });

  it('sends a request costing more than the rate alone, and holds the window for its cost', async () => {
    const gate = new RateGate({ ratePerSecond: 2, now: time.now });
    const start = time.now();
    const rs = ask(gate, time, [
      { name: 'one', cost: 1 },
      { name: 'five', cost: 5 },
      { name: 'after', cost: 1 },
    ]);
    await time.until(() => rs.every((r) => r.releasedAt !== null));
    const [one, five, after] = rs;
    // Five parts at two a second: it waits for an empty window, then goes on its own...
    assert.equal(five!.grantedAt! - start, 1_000);
    assert.ok(five!.grantedAt! >= one!.releasedAt! + 1_000, 'nothing else in its window');
    // ...and what follows waits the 2.5 s five parts take at that rate.
    assert.equal(after!.grantedAt! - five!.releasedAt!, 2_500);
  });

  it('allows one request per 1/rate seconds below one a second', async () => {
    const gate = new RateGate({ ratePerSecond: 0.5, now: time.now });
    const start = time.now();
    const rs = ask(
      gate,
      time,
      Array.from({ length: 4 }, (_, i) => ({ name: `b${i}` })),
      () => 50,
    );
    await time.until(() => rs.every((r) => r.releasedAt !== null));
    assert.deepEqual(
      rs.map((r) => r.grantedAt! - start),
      [0, 2_050, 4_100, 6_150],
    );
    assertWindowHeld(rs, 1, 2_000);
  });

  it('admits nothing while paused, then serves the waiters in priority order', async () => {
    const gate = new RateGate({ ratePerSecond: 10, now: time.now });
    const start = time.now();
    gate.pause(1_500);
    const order: string[] = [];
    const bulk = ask(gate, time, [{ name: 'bulk', priority: 2 }], () => 0, order);
    const reply = ask(gate, time, [{ name: 'reply', priority: 0 }], () => 0, order);
    await time.advance(1_499);
    assert.equal(order.length, 0, 'nothing before the pause ends');
    await time.until(() => order.length === 2);
    assert.deepEqual(order, ['reply', 'bulk']);
    assert.equal(reply[0]!.grantedAt! - start, 1_500);
    assert.equal(bulk[0]!.grantedAt! - start, 1_500);
    // A shorter pause does not cut a longer one short.
    gate.pause(2_000);
    gate.pause(500);
    const later = ask(gate, time, [{ name: 'later' }]);
    await time.until(() => later[0]!.grantedAt !== null);
    assert.equal(later[0]!.grantedAt! - reply[0]!.grantedAt!, 2_000);
  });

  it('refuses a rate that is not positive', () => {
    assert.throws(() => new RateGate({ ratePerSecond: 0 }), /ratePerSecond/);
  });
});

describe('PerKeySpacing', () => {
  let time: FakeTime;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    time = new FakeTime();
  });
  afterEach(() => {
    mock.timers.reset();
  });

  /** Takes a turn for `key`, answered `latencyMs` later; records when it was granted. */
  function turn(
    spacing: PerKeySpacing,
    key: string,
    latencyMs: number,
    log: Array<{ key: string; at: number; answeredAt: number | null }>,
  ): void {
    void spacing.acquire(key).then((release) => {
      const entry = { key, at: time.now(), answeredAt: null as number | null };
      log.push(entry);
      setTimeout(() => {
        entry.answeredAt = time.now();
        release();
      }, latencyMs);
    });
  }

  it('sends one message per chat per second, counted from the answer; other chats go at once', async () => {
    const spacing = new PerKeySpacing(1_000, time.now);
    const log: Array<{ key: string; at: number; answeredAt: number | null }> = [];
    const start = time.now();
    for (let i = 0; i < 3; i++) turn(spacing, 'chat-a', 200, log);
    turn(spacing, 'chat-b', 200, log);
    await time.until(() => log.length === 4 && log.every((e) => e.answeredAt !== null));
    const a = log.filter((e) => e.key === 'chat-a');
    const b = log.filter((e) => e.key === 'chat-b');
    assert.deepEqual(
      a.map((e) => e.at - start),
      [0, 1_200, 2_400],
    );
    assert.equal(b[0]!.at, start, 'another chat does not wait for chat-a');
    for (let i = 1; i < a.length; i++)
      assert.ok(a[i]!.at >= a[i - 1]!.answeredAt! + 1_000, 'a second after the previous answer');
  });

  it('lets a chat that has been quiet for a second go at once, and forgets idle chats', async () => {
    const spacing = new PerKeySpacing(1_000, time.now);
    const log: Array<{ key: string; at: number; answeredAt: number | null }> = [];
    turn(spacing, 'chat-a', 0, log);
    await time.until(() => log[0]?.answeredAt != null);
    await time.advance(1_000);
    const before = time.now();
    turn(spacing, 'chat-a', 0, log);
    await settle();
    assert.equal(log[1]?.at, before);
    await time.advance(61_000);
    turn(spacing, 'chat-b', 0, log);
    await settle();
    assert.equal(spacing.size, 1, 'chat-a was forgotten, chat-b is new');
  });
});
