/**
 * A circuit breaker around a biller's account inquiry (opossum). After enough failures it opens and
 * inquiries fail fast with BillerUnavailableError ("circuit open"), so that a biller that is down for
 * hours does not cost every subscriber a 5-second wait; after `resetTimeoutMs` one trial call is let
 * through (half-open) and a success closes it again.
 *
 * - An unknown account (null) is a success: the biller answered.
 * - A call abandoned by its own caller (the caller's signal aborted) does not count either way,
 *   nor does a failure of one account only (BillerUnavailableError with scope 'account').
 * - Only `getAccount` goes through the breaker; `settle` is passed through unchanged, because the
 *   outbox retries settlements with its own backoff.
 */
import CircuitBreaker from 'opossum';
import {
  BillerUnavailableError,
  PROBE_ACCOUNT,
  type BillerAccount,
  type BillerPort,
  type SettlementRequest,
  type SettlementResult,
} from '../core/ports/biller.port.js';

export type BreakerState = 'open' | 'halfOpen' | 'closed';

export interface CircuitBreakerOptions {
  billerId: string;
  /** Upper bound for one inquiry, on top of the adapter's own timeout. Default: none. */
  timeoutMs?: number;
  /** How long the circuit stays open before a trial call. Default 30000 ms. */
  resetTimeoutMs?: number;
  /** Failure percentage (within the rolling 10 s window) that opens the circuit. Default 50. */
  errorThresholdPercentage?: number;
  /** Calls in the window before the circuit may open at all. Default 3. */
  volumeThreshold?: number;
  onStateChange?: (state: BreakerState) => void;
}

export type BreakerBiller = BillerPort & { readonly state: BreakerState };

type Args = [account: string, signal: AbortSignal | undefined];

function opossumCode(err: unknown): string | undefined {
  if (err instanceof Error && CircuitBreaker.isOurError(err)) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function withCircuitBreaker(biller: BillerPort, opts: CircuitBreakerOptions): BreakerBiller {
  const { billerId, timeoutMs } = opts;

  /** Errors of calls whose own caller gave up: not the biller's fault, so not counted. */
  const abandoned = new WeakSet<object>();

  const action = async (
    account: string,
    signal: AbortSignal | undefined,
  ): Promise<BillerAccount | null> => {
    // Also abort the underlying request when the breaker gives up on it.
    const deadline = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const combined =
      signal && deadline ? AbortSignal.any([signal, deadline]) : (signal ?? deadline);
    try {
      return await biller.getAccount(account, combined);
    } catch (err) {
      if (signal?.aborted && typeof err === 'object' && err !== null) abandoned.add(err);
      throw err;
    }
  };

  const breaker: CircuitBreaker<Args, BillerAccount | null> = new CircuitBreaker(action, {
    name: `biller:${billerId}`,
    timeout: timeoutMs ?? false,
    resetTimeout: opts.resetTimeoutMs ?? 30000,
    errorThresholdPercentage: opts.errorThresholdPercentage ?? 50,
    volumeThreshold: opts.volumeThreshold ?? 3,
    // A filtered error counts as a success, which would close a half-open circuit: one account's
    // failure is ignored only while the circuit is closed, never taken as the biller's recovery.
    errorFilter: (err: unknown): boolean =>
      typeof err === 'object' &&
      err !== null &&
      (abandoned.has(err) ||
        (err instanceof BillerUnavailableError && err.scope === 'account' && !breaker.halfOpen)),
  });

  const state = (): BreakerState =>
    breaker.opened ? 'open' : breaker.halfOpen ? 'halfOpen' : 'closed';
  if (opts.onStateChange) {
    const notify = opts.onStateChange;
    breaker.on('open', () => notify('open'));
    breaker.on('halfOpen', () => notify('halfOpen'));
    breaker.on('close', () => notify('closed'));
  }

  return {
    get state() {
      return state();
    },
    async getAccount(account: string, signal?: AbortSignal): Promise<BillerAccount | null> {
      try {
        return await breaker.fire(account, signal);
      } catch (err) {
        switch (opossumCode(err)) {
          case 'EOPENBREAKER':
            throw new BillerUnavailableError(billerId, 'circuit open', { cause: err });
          case 'ETIMEDOUT':
            throw new BillerUnavailableError(billerId, `timed out after ${timeoutMs} ms`, {
              cause: err,
            });
          case undefined:
            throw err;
          default:
            throw new BillerUnavailableError(
              billerId,
              err instanceof Error ? err.message : String(err),
              {
                cause: err,
              },
            );
        }
      }
    },
    settle(request: SettlementRequest, signal?: AbortSignal): Promise<SettlementResult> {
      return biller.settle(request, signal);
    },
    // The recovery probe goes around the breaker: while it is open every inquiry fails at once,
    // and the probe is how Tasdeed learns that the biller is back (one call a minute needs no
    // protection). An answer closes the breaker, so the people told "it is back" are served.
    async ping(signal?: AbortSignal): Promise<void> {
      await (biller.ping ? biller.ping(signal) : biller.getAccount(PROBE_ACCOUNT, signal));
      breaker.close();
    },
  };
}
