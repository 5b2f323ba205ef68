/**
 * Lockout after repeated failed console logins: after 5 failures from one client address within
 * 15 minutes (with no successful login since), that address gets 429 until the oldest of them is
 * 15 minutes old. Attempts are audit entries, so every instance sharing the database counts the
 * same ones, and a locked-out address writes nothing more.
 */
import type { Store } from '../../core/ports/store.port.js';
import type { ConsoleQueries } from '../../db/console-queries.js';

export const LOGIN_ENTITY = 'console-login';
export const MAX_LOGIN_FAILURES = 5;
export const LOCKOUT_WINDOW_MS = 15 * 60_000;

export class LoginLockout {
  constructor(
    private readonly queries: Pick<ConsoleQueries, 'recentAudit'>,
    private readonly store: Pick<Store, 'audit'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds this address must wait before trying again; null when it may try now. */
  async retryAfter(address: string): Promise<number | null> {
    const now = this.now();
    const recent = await this.queries.recentAudit(
      LOGIN_ENTITY,
      address,
      new Date(now - LOCKOUT_WINDOW_MS),
      MAX_LOGIN_FAILURES,
    );
    // Locked when the newest MAX entries of the window are all failures.
    if (recent.length < MAX_LOGIN_FAILURES || recent.some((e) => e.action !== 'login-failed'))
      return null;
    const oldest = recent[recent.length - 1]!.at.getTime();
    return Math.max(1, Math.ceil((oldest + LOCKOUT_WINDOW_MS - now) / 1000));
  }

  async failed(address: string): Promise<void> {
    await this.store.audit({
      actor: 'staff:console',
      entity: LOGIN_ENTITY,
      entityId: address,
      action: 'login-failed',
    });
  }

  async succeeded(address: string): Promise<void> {
    await this.store.audit({
      actor: 'staff:console',
      entity: LOGIN_ENTITY,
      entityId: address,
      action: 'login',
    });
  }
}
