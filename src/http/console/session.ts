/**
 * The console's login session (docs/design.md §3: the staff API accepts the bearer token or this
 * cookie). Stateless, so that instances sharing nothing but the database accept each other's
 * sessions: the cookie is `<id>.<expiry>.<HMAC>` keyed from TASDEED_ADMIN_TOKEN (changing the
 * token ends every session). Logging out is recorded in the audit log, which every instance
 * reads, so a copied cookie stops working too. The CSRF token is an HMAC of the session id
 * under a second key: nothing to store, and it cannot be derived from the cookie.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse } from 'cookie';
import type { Request, Response } from 'express';
import type { AppConfig } from '../../config/env.js';
import type { Store } from '../../core/ports/store.port.js';

export const SESSION_COOKIE = 'tasdeed_console';
/** Holds the nonce the login form's CSRF token is derived from (there is no session yet). */
export const LOGIN_COOKIE = 'tasdeed_console_login';
/** A working day; then the person logs in again. */
export const SESSION_TTL_MS = 8 * 3_600_000;
/** The audit entity under which logins and logouts are recorded. */
export const SESSION_ENTITY = 'console-session';

export interface ConsoleSession {
  id: string;
  expiresAt: Date;
  /** The token every form and state-changing request of this session carries. */
  csrf: string;
}

export interface ConsoleSessionsOptions {
  /** Send cookies only over HTTPS (when PUBLIC_URL is https). */
  secure: boolean;
  /** Whether the session was ended by logging out (any instance). */
  isEnded(id: string): Promise<boolean>;
  ttlMs?: number;
  now?: () => number;
}

/** The cookies of a Cookie header (the first of a repeated name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const parsed = parse(header ?? '');
  return new Map(
    Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

function b64url(buffer: Buffer): string {
  return buffer.toString('base64url');
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class ConsoleSessions {
  private readonly sessionKey: Buffer;
  private readonly csrfKey: Buffer;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    adminToken: string,
    private readonly options: ConsoleSessionsOptions,
  ) {
    // Separate keys for separate purposes, both derived from the one secret staff configure.
    this.sessionKey = createHmac('sha256', adminToken)
      .update('tasdeed console session v1')
      .digest();
    this.csrfKey = createHmac('sha256', adminToken).update('tasdeed console csrf v1').digest();
    this.ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** A new session and the cookie value that carries it. */
  issue(): { session: ConsoleSession; value: string } {
    const id = b64url(randomBytes(18));
    const expires = this.now() + this.ttlMs;
    const body = `${id}.${expires.toString(36)}`;
    return { session: this.session(id, expires), value: `${body}.${this.mac(body)}` };
  }

  /** The session the request's cookie carries, or null (none, forged, expired, logged out). */
  async fromRequest(req: Request): Promise<ConsoleSession | null> {
    const value = parseCookies(req.get('Cookie')).get(SESSION_COOKIE);
    if (!value) return null;
    const [id, exp, mac, extra] = value.split('.');
    if (!id || !exp || !mac || extra !== undefined) return null;
    if (!sameText(mac, this.mac(`${id}.${exp}`))) return null;
    const expires = parseInt(exp, 36);
    if (!Number.isSafeInteger(expires) || expires <= this.now()) return null;
    if (await this.options.isEnded(id)) return null;
    return this.session(id, expires);
  }

  /** True when `given` is this session's CSRF token. */
  csrfValid(session: ConsoleSession, given: unknown): boolean {
    return typeof given === 'string' && sameText(given, session.csrf);
  }

  setCookie(res: Response, value: string): void {
    res.cookie(SESSION_COOKIE, value, {
      httpOnly: true,
      secure: this.options.secure,
      sameSite: 'strict',
      path: '/admin',
      maxAge: this.ttlMs,
    });
  }

  clearCookie(res: Response): void {
    res.clearCookie(SESSION_COOKIE, {
      httpOnly: true,
      secure: this.options.secure,
      sameSite: 'strict',
      path: '/admin',
    });
  }

  /**
   * The login form's CSRF token: derived from a random nonce in a short-lived cookie (set here
   * when the request has none), so a page elsewhere cannot post the form.
   */
  loginToken(req: Request, res: Response): string {
    let nonce = parseCookies(req.get('Cookie')).get(LOGIN_COOKIE);
    if (!nonce || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) {
      nonce = b64url(randomBytes(18));
      res.cookie(LOGIN_COOKIE, nonce, {
        httpOnly: true,
        secure: this.options.secure,
        sameSite: 'strict',
        path: '/admin/login',
        maxAge: 3_600_000,
      });
    }
    return this.derive(`login.${nonce}`);
  }

  /** The login form's nonce is spent once a session exists. */
  clearLoginCookie(res: Response): void {
    res.clearCookie(LOGIN_COOKIE, {
      httpOnly: true,
      secure: this.options.secure,
      sameSite: 'strict',
      path: '/admin/login',
    });
  }

  loginTokenValid(req: Request, given: unknown): boolean {
    const nonce = parseCookies(req.get('Cookie')).get(LOGIN_COOKIE);
    return !!nonce && typeof given === 'string' && sameText(given, this.derive(`login.${nonce}`));
  }

  /**
   * For the staff API: 'ok' with a valid session (a state-changing request must also carry the
   * session's CSRF token in `X-CSRF-Token`), 'csrf' when only that token is missing or wrong,
   * null without a valid session.
   */
  async apiAccess(req: Request): Promise<'ok' | 'csrf' | null> {
    const session = await this.fromRequest(req);
    if (!session) return null;
    const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
    if (safe || this.csrfValid(session, req.get('X-CSRF-Token'))) return 'ok';
    return 'csrf';
  }

  private session(id: string, expires: number): ConsoleSession {
    return { id, expiresAt: new Date(expires), csrf: this.derive(`session.${id}`) };
  }

  private mac(body: string): string {
    return b64url(createHmac('sha256', this.sessionKey).update(body).digest());
  }

  private derive(purpose: string): string {
    return b64url(createHmac('sha256', this.csrfKey).update(purpose).digest());
  }
}

/** The sessions of this configuration; null while TASDEED_ADMIN_TOKEN is unset (console off). */
export function consoleSessions(deps: {
  config: Pick<AppConfig, 'adminToken' | 'publicUrl'>;
  store: Pick<Store, 'auditTrail'>;
}): ConsoleSessions | null {
  const token = deps.config.adminToken;
  if (!token) return null;
  return new ConsoleSessions(token, {
    secure: deps.config.publicUrl.startsWith('https:'),
    isEnded: async (id) =>
      (await deps.store.auditTrail(SESSION_ENTITY, id)).some((e) => e.action === 'logout'),
  });
}
