import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withCircuitBreaker, type BreakerState } from '../../src/adapters/circuit-breaker.js';
import { qirsh } from '../../src/core/money.js';
import { waitFor } from '../support/wait.js';
import {
  BillerUnavailableError,
  type BillerAccount,
  type BillerPort,
  type SettlementRequest,
} from '../../src/core/ports/biller.port.js';

const ACCOUNT: BillerAccount = { account: '1', holder: 'x', governorate: 'DAM', bills: [] };

/** A biller whose next answers the test decides. */
function scriptedBiller() {
  const state = {
    mode: 'ok' as 'ok' | 'down' | 'account-down' | 'unknown' | 'slow',
    calls: 0,
    settles: 0,
  };
  const biller: BillerPort = {
    getAccount(_account: string, signal?: AbortSignal) {
      state.calls += 1;
      switch (state.mode) {
        case 'ok':
          return Promise.resolve(ACCOUNT);
        case 'unknown':
          return Promise.resolve(null);
        case 'down':
          return Promise.reject(new BillerUnavailableError('electricity', 'answered 503'));
        case 'account-down':
          return Promise.reject(
            new BillerUnavailableError('electricity', 'this account only', { scope: 'account' }),
          );
        case 'slow':
          return new Promise((_resolve, reject) => {
            const t = setTimeout(
              () => reject(new BillerUnavailableError('electricity', 'too late')),
              1000,
            );
            signal?.addEventListener('abort', () => {
              clearTimeout(t);
              reject(new BillerUnavailableError('electricity', 'aborted'));
            });
          });
      }
    },
    settle() {
      state.settles += 1;
      return state.mode === 'down'
        ? Promise.reject(new BillerUnavailableError('electricity', 'answered 503'))
        : Promise.resolve('acknowledged');
    },
  };
  return { biller, state };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SETTLEMENT: SettlementRequest = {
  billId: 'B',
  paymentId: 'P',
  amountMinor: qirsh(100),
  channel: 'wallet',
  providerRef: 'r',
  paidAt: new Date(),
};

void describe('withCircuitBreaker', () => {
  void it('opens after failures and then fails fast with "circuit open"', async () => {
    const { biller, state } = scriptedBiller();
    const changes: BreakerState[] = [];
    const wrapped = withCircuitBreaker(biller, {
      billerId: 'electricity',
      resetTimeoutMs: 10_000,
      onStateChange: (s) => changes.push(s),
    });
    assert.equal(wrapped.state, 'closed');
    state.mode = 'down';
    for (let i = 0; i < 3; i++) await assert.rejects(wrapped.getAccount('1'), /answered 503/);
    assert.equal(wrapped.state, 'open');
    assert.deepEqual(changes, ['open']);

    const callsBefore = state.calls;
    state.mode = 'ok';
    await assert.rejects(wrapped.getAccount('1'), (err: unknown) => {
      assert.ok(err instanceof BillerUnavailableError);
      assert.equal(err.billerId, 'electricity');
      assert.match(err.message, /circuit open/);
      return true;
    });
    assert.equal(state.calls, callsBefore, 'the biller was not called');
  });

  void it('does not count an unknown account (null) as a failure', async () => {
    const { biller, state } = scriptedBiller();
    const wrapped = withCircuitBreaker(biller, { billerId: 'electricity' });
    state.mode = 'unknown';
    for (let i = 0; i < 10; i++) assert.equal(await wrapped.getAccount('404'), null);
    assert.equal(wrapped.state, 'closed');
  });

  void it("does not count one account's failure (scope 'account') against the biller", async () => {
    const { biller, state } = scriptedBiller();
    state.mode = 'account-down';
    const wrapped = withCircuitBreaker(biller, { billerId: 'electricity' });
    for (let i = 0; i < 10; i++) {
      await assert.rejects(wrapped.getAccount('9901'), (err: unknown) => {
        assert.ok(err instanceof BillerUnavailableError, 'a BillerUnavailableError');
        assert.equal(err.scope, 'account');
        return true;
      });
    }
    assert.equal(wrapped.state, 'closed');
  });

  void it('stays closed below the volume threshold and while failures are the minority', async () => {
    const { biller, state } = scriptedBiller();
    const wrapped = withCircuitBreaker(biller, { billerId: 'electricity', volumeThreshold: 3 });
    state.mode = 'down';
    for (let i = 0; i < 2; i++) await assert.rejects(wrapped.getAccount('1'));
    assert.equal(wrapped.state, 'closed');

    const other = scriptedBiller();
    const mostlyFine = withCircuitBreaker(other.biller, { billerId: 'water' });
    for (let i = 0; i < 6; i++) await mostlyFine.getAccount('1');
    other.state.mode = 'down';
    await assert.rejects(mostlyFine.getAccount('1'));
    await assert.rejects(mostlyFine.getAccount('1'));
    assert.equal(mostlyFine.state, 'closed');
  });

  void it('half-opens after resetTimeoutMs and closes after a successful trial', async () => {
    const { biller, state } = scriptedBiller();
    const changes: BreakerState[] = [];
    const wrapped = withCircuitBreaker(biller, {
      billerId: 'electricity',
      resetTimeoutMs: 80,
      onStateChange: (s) => changes.push(s),
    });
    state.mode = 'down';
    for (let i = 0; i < 3; i++) await assert.rejects(wrapped.getAccount('1'));
    assert.equal(wrapped.state, 'open');
    await sleep(120);
    assert.equal(wrapped.state, 'halfOpen');

    // A failed trial opens it again.
    await assert.rejects(wrapped.getAccount('1'), /answered 503/);
    assert.equal(wrapped.state, 'open');
    await sleep(120);
    assert.equal(wrapped.state, 'halfOpen');

    state.mode = 'ok';
    assert.deepEqual(await wrapped.getAccount('1'), ACCOUNT);
    assert.equal(wrapped.state, 'closed');
    assert.deepEqual(changes, ['open', 'halfOpen', 'open', 'halfOpen', 'closed']);
  });

  void it("never takes one account's failure as the trial that closes a half-open circuit", async () => {
    const { biller, state } = scriptedBiller();
    const wrapped = withCircuitBreaker(biller, { billerId: 'electricity', resetTimeoutMs: 80 });
    state.mode = 'down';
    for (let i = 0; i < 3; i++) await assert.rejects(wrapped.getAccount('1'));
    await waitFor('half-open', () => wrapped.state === 'halfOpen' || null);
    state.mode = 'account-down';
    await assert.rejects(wrapped.getAccount('9901'), /this account only/);
    assert.equal(wrapped.state, 'open', 'the trial failed: open again');
  });

  void it('times out slow inquiries when timeoutMs is given, aborting the call', async () => {
    const { biller, state } = scriptedBiller();
    const wrapped = withCircuitBreaker(biller, { billerId: 'electricity', timeoutMs: 50 });
    state.mode = 'slow';
    const started = Date.now();
    await assert.rejects(wrapped.getAccount('1'), BillerUnavailableError);
    assert.ok(Date.now() - started < 500);
  });

  void it('does not count calls abandoned by their own caller', async () => {
    const { biller, state } = scriptedBiller();
    const wrapped = withCircuitBreaker(biller, { billerId: 'electricity' });
    state.mode = 'slow';
    for (let i = 0; i < 4; i++) {
      const ac = new AbortController();
      const p = wrapped.getAccount('1', ac.signal);
      ac.abort();
      await assert.rejects(p);
    }
    assert.equal(wrapped.state, 'closed');
  });

  void it('passes settlements through, even while open', async () => {
    const { biller, state } = scriptedBiller();
    const wrapped = withCircuitBreaker(biller, { billerId: 'electricity', resetTimeoutMs: 10_000 });
    state.mode = 'down';
    for (let i = 0; i < 3; i++) await assert.rejects(wrapped.getAccount('1'));
    assert.equal(wrapped.state, 'open');
    await assert.rejects(wrapped.settle(SETTLEMENT), /answered 503/);
    state.mode = 'ok';
    assert.equal(await wrapped.settle(SETTLEMENT), 'acknowledged');
    assert.equal(state.settles, 2);
  });
});
