/**
 * Lockout after repeated failed staff logins, the console form and the bearer API counted
 * together: after 5 failures from one client within 15 minutes of the first (with no success
 * since), that client gets 429, even for the right token, until those 15 minutes are over. The
 * client is the address Express gives (`req.ip`, as TRUST_PROXY says). Failures are counted in
 * the database, so every instance sharing it counts the same ones, and each failure is counted
 * and its count read back in one step: of many parallel wrong attempts exactly 5 are answered
 * "wrong token", the rest "locked". Failures answered "wrong token" are audit entries too.
 */
import type { Request } from 'express';
import type { Store } from '../../core/ports/store.port.js';
import type { LoginFailures, LoginThrottlePort } from '../../db/login-throttle.js';

export const LOGIN_ENTITY = 'console-login';
export const MAX_LOGIN_FAILURES = 5;
export const LOCKOUT_WINDOW_MS = 15 * 60_000;

/** The client a request comes from, as the lockout counts it. */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** One login attempt (a console form post, or an API request carrying a bearer token). */
export interface LoginAttempt {
  /** Seconds the client must wait before trying again; null when it may try now. */
  readonly retryAfter: number | null;
  /**
   * Counts the attempt as a failure. Returns the seconds to wait when the client was over the
   * limit with it (answer 429, not "wrong token"), else null.
   */
  failed(): Promise<number | null>;
  /** The token was right: earlier failures are forgotten. */
  succeeded(): Promise<void>;
}

export class LoginLockout {
  constructor(
    private readonly throttle: LoginThrottlePort,
    private readonly store: Pick<Store, 'audit'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts an attempt by `client` through the console (`staff:console`) or the API (`staff:api`). */
  async attempt(client: string, actor: 'staff:console' | 'staff:api'): Promise<LoginAttempt> {
    const before = await this.throttle.get(client);
    const locked = before && before.failures >= MAX_LOGIN_FAILURES ? this.wait(before) : null;
    return {
      retryAfter: locked,
      failed: async () => {
        const counted = await this.throttle.countFailure(client, this.now(), LOCKOUT_WINDOW_MS);
        if (counted.failures > MAX_LOGIN_FAILURES) return this.wait(counted) ?? 1;
        await this.store.audit({
          actor,
          entity: LOGIN_ENTITY,
          entityId: client,
          action: 'login-failed',
        });
        return null;
      },
      // Nothing to forget (no statement) for the usual request of a client that never failed.
      succeeded: async () => {
        if (before) await this.throttle.clear(client);
      },
    };
  }

  /** Seconds until the failures' window is over; null when it is over already. */
  private wait(failures: LoginFailures): number | null {
    const left = failures.windowStartMs + LOCKOUT_WINDOW_MS - this.now();
    return left > 0 ? Math.max(1, Math.ceil(left / 1000)) : null;
  }
}
