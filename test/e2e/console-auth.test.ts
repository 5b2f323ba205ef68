/**
 * The staff console's gate, over plain HTTP (issue 7): pages redirect to the login and the API
 * answers 401 without a session; the login locks an address out after repeated failures; every
 * form and state-changing API call needs the session's CSRF token; logging out ends the
 * session everywhere; nothing under /admin exists while no admin token is configured.
 */
import assert from 'node:assert/strict';
import type { Request } from 'express';
import { after, before, describe, it } from 'node:test';
import { isSqlStore, SqlLoginThrottle } from '../../src/db/login-throttle.js';
import { LoginLockout } from '../../src/http/console/lockout.js';
import { ConsoleSessions, SESSION_COOKIE } from '../../src/http/console/session.js';
import { startTasdeed, waitFor, type Running } from '../support/harness.js';
import {
  ADMIN_TOKEN,
  consoleLogin,
  cookiesOf,
  heldPayment,
  loginForm,
  postForm,
} from '../browser/console-support.js';

const PAGES = [
  '/admin',
  '/admin/',
  '/admin/console/broadcasts',
  '/admin/console/broadcasts?watch=B-1',
  '/admin/console/coverage',
  '/admin/console/held',
];
const API: Array<[string, string]> = [
  ['GET', '/admin/payments'],
  ['GET', '/admin/payments/P-0000000000'],
  ['POST', '/admin/payments/P-0000000000/resolve'],
  ['GET', '/admin/broadcasts'],
  ['POST', '/admin/broadcasts'],
  ['GET', '/admin/broadcasts/B-1'],
  ['POST', '/admin/broadcasts/B-1/cancel'],
];
const DRY_RUN = {
  text: { ar: 'انقطاع مجدول للكهرباء' },
  audience: { all: true },
  dryRun: true,
};

function get(t: Running, path: string, cookie = ''): Promise<Response> {
  return fetch(`${t.url}${path}`, {
    redirect: 'manual',
    headers: cookie ? { Cookie: cookie } : {},
  });
}

function api(
  t: Running,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Response> {
  return fetch(`${t.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(body !== undefined
      ? { body: JSON.stringify(body) }
      : method === 'POST'
        ? { body: '{}' }
        : {}),
  });
}

describe('staff console: without a session', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed();
  });
  after(async () => {
    await t.close();
  });

  it('redirects every console page to the login, keeping where the person was going', async () => {
    for (const path of PAGES) {
      const res = await get(t, path);
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get('location'), `/admin/login?next=${encodeURIComponent(path)}`);
    }
  });

  it('answers 401 on every API route, and to a forged or foreign cookie', async () => {
    const forged = `${SESSION_COOKIE}=AAAAAAAAAAAAAAAAAAAAAAAA.${(Date.now() + 3_600_000).toString(36)}.forgedmac`;
    const foreign = new ConsoleSessions('another-token-0123456789abcdef', {
      secure: false,
      isEnded: () => Promise.resolve(false),
    }).issue().value;
    for (const cookie of ['', forged, `${SESSION_COOKIE}=${foreign}`]) {
      for (const [method, path] of API) {
        const res = await api(t, method, path, cookie ? { Cookie: cookie } : {});
        assert.equal(res.status, 401, `${method} ${path} with ${cookie || 'no cookie'}`);
      }
      const page = await get(t, '/admin/console/coverage', cookie);
      assert.equal(page.status, 303);
    }
  });

  it('serves the login page and the public assets, and a console form post only goes to the login', async () => {
    const login = await get(t, '/admin/login');
    assert.equal(login.status, 200);
    assert.match(login.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await login.text();
    assert.match(html, /<html lang="ar" dir="rtl">/);
    assert.match(html, /name="token"\s+type="password"/);
    assert.equal((await get(t, '/admin/assets/console.css')).status, 200);

    const before = await t.tasdeed.store.getCoverage('electricity', 'IDL');
    const res = await postForm(t.url, '/admin/console/coverage', '', {
      _csrf: 'x',
      cell: 'electricity|IDL|1',
    });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /^\/admin\/login/);
    assert.deepEqual(await t.tasdeed.store.getCoverage('electricity', 'IDL'), before);
  });

  it('refuses a login whose form token is missing or forged (403), whatever the token', async () => {
    const form = await loginForm(t.url);
    for (const csrf of [undefined, 'forged', form.csrf.slice(0, -2) + 'xx']) {
      const fields: Record<string, string> = { token: ADMIN_TOKEN };
      if (csrf) fields._csrf = csrf;
      const res = await postForm(t.url, '/admin/login', form.cookie, fields);
      assert.equal(res.status, 403);
      assert.equal(
        res.headers.getSetCookie().some((c) => c.startsWith(SESSION_COOKIE)),
        false,
      );
    }
    // Another browser's form token (the cookie is missing) is refused too.
    const res = await postForm(t.url, '/admin/login', '', { _csrf: form.csrf, token: ADMIN_TOKEN });
    assert.equal(res.status, 403);
  });

  it('only sends a person back to a console path after login', async () => {
    const form = await loginForm(t.url);
    for (const [next, expected] of [
      ['/admin/console/coverage', '/admin/console/coverage'],
      ['https://evil.example/admin', '/admin'],
      ['//evil.example', '/admin'],
      ['/adminx', '/admin'],
    ] as const) {
      const res = await postForm(t.url, '/admin/login', form.cookie, {
        _csrf: form.csrf,
        token: ADMIN_TOKEN,
        next,
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), expected);
    }
  });
});

describe('staff console: with a session', () => {
  let t: Running;
  let staff: { cookie: string; csrf: string };
  before(async () => {
    t = await startTasdeed();
    staff = await consoleLogin(t.url);
  });
  after(async () => {
    await t.close();
  });

  it('sets an HttpOnly, SameSite=Strict session cookie scoped to /admin', async () => {
    const form = await loginForm(t.url);
    const res = await postForm(t.url, '/admin/login', form.cookie, {
      _csrf: form.csrf,
      token: ADMIN_TOKEN,
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    assert.ok(set);
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    assert.match(set, /Path=\/admin/);
    assert.doesNotMatch(set, /Secure/, 'PUBLIC_URL is http here');
  });

  it('serves every page, in Arabic by default and in English on request', async () => {
    // Something on every page: a held payment, a broadcast being watched.
    await heldPayment(t, '1000401');
    const created = await api(
      t,
      'POST',
      '/admin/broadcasts',
      { Authorization: `Bearer ${ADMIN_TOKEN}` },
      { text: { ar: 'تجربة' }, audience: { governorates: ['HOM'] } },
    );
    const { id } = (await created.json()) as { id: string };
    const pages = [...PAGES, `/admin/console/broadcasts?watch=${id}`];
    for (const path of pages) {
      const res = await get(t, path, staff.cookie);
      assert.equal(res.status, 200, path);
      assert.match(await res.text(), /<html lang="ar" dir="rtl">/);
    }
    for (const path of pages) {
      const res = await get(t, `${path}${path.includes('?') ? '&' : '?'}lang=en`, staff.cookie);
      assert.equal(res.status, 200, path);
      assert.match(await res.text(), /<html lang="en" dir="ltr">/);
    }
    const en = await get(t, '/admin/console/coverage?lang=en', staff.cookie);
    assert.match(await en.text(), /<html lang="en" dir="ltr">/);
    const remembered = cookiesOf(en);
    const next = await get(t, '/admin', `${staff.cookie}; ${remembered}`);
    assert.match(await next.text(), /<html lang="en" dir="ltr">[\s\S]*Today at a glance/);
  });

  it('lets the session use the API: reads freely, writes only with X-CSRF-Token', async () => {
    const cookie = { Cookie: staff.cookie };
    assert.equal((await api(t, 'GET', '/admin/payments', cookie)).status, 200);
    const none = await api(t, 'POST', '/admin/broadcasts', cookie, DRY_RUN);
    assert.equal(none.status, 403);
    const wrong = await api(
      t,
      'POST',
      '/admin/broadcasts',
      { ...cookie, 'X-CSRF-Token': 'forged' },
      DRY_RUN,
    );
    assert.equal(wrong.status, 403);
    const right = await api(
      t,
      'POST',
      '/admin/broadcasts',
      { ...cookie, 'X-CSRF-Token': staff.csrf },
      DRY_RUN,
    );
    assert.equal(right.status, 200);
    assert.equal(((await right.json()) as { dryRun: boolean }).dryRun, true);
    // A wrong bearer is not rescued by a valid cookie.
    const bearer = await api(t, 'GET', '/admin/payments', {
      ...cookie,
      Authorization: 'Bearer wrong-token',
    });
    assert.equal(bearer.status, 401);
    // The bearer alone still works, without any CSRF token.
    const automation = await api(
      t,
      'POST',
      '/admin/broadcasts',
      { Authorization: `Bearer ${ADMIN_TOKEN}` },
      DRY_RUN,
    );
    assert.equal(automation.status, 200);
  });

  it('refuses every console form with a missing or forged CSRF token (403), changing nothing', async () => {
    const store = t.tasdeed.store;
    const held = await heldPayment(t);
    const other = await consoleLogin(t.url);
    assert.notEqual(other.csrf, staff.csrf, 'each session has its own token');
    const coverageBefore = await store.getCoverage('electricity', 'IDL');
    const broadcastsBefore = (await t.tasdeed.broadcasts.list()).length;

    for (const csrf of [null, 'forged', other.csrf]) {
      const token: Record<string, string> = csrf === null ? {} : { _csrf: csrf };
      const forms: Array<[string, Record<string, string>]> = [
        ['/admin/console/coverage', { cell: 'electricity|IDL|1' }],
        [`/admin/console/held/${held}/resolve`, { status: 'failed', note: 'forged' }],
        [
          '/admin/console/broadcasts',
          { textAr: 'رسالة', audience: 'all', channels: 'sms', action: 'send' },
        ],
        ['/admin/console/broadcasts/B-1/cancel', {}],
        ['/admin/logout', {}],
      ];
      for (const [path, fields] of forms) {
        const res = await postForm(t.url, path, staff.cookie, { ...token, ...fields });
        assert.equal(res.status, 403, `${path} with ${csrf ?? 'no token'}`);
      }
    }
    assert.deepEqual(await store.getCoverage('electricity', 'IDL'), coverageBefore);
    assert.equal((await store.getPayment(held))?.status, 'held');
    assert.equal((await t.tasdeed.broadcasts.list()).length, broadcastsBefore);
    assert.equal((await get(t, '/admin', staff.cookie)).status, 200, 'still logged in');
  });

  it('changes coverage and resolves a held payment with the right token, recording staff:console', async () => {
    const store = t.tasdeed.store;
    const before = await store.getCoverage('water', 'RAQ');
    assert.equal(before?.available, true);
    const res = await postForm(t.url, '/admin/console/coverage', staff.cookie, {
      _csrf: staff.csrf,
      cell: 'water|RAQ|0',
    });
    assert.equal(res.status, 303);
    const after = await store.getCoverage('water', 'RAQ');
    assert.equal(after?.available, false);
    assert.equal(after?.updatedBy, 'staff:console');
    const audit = await store.auditTrail('coverage', 'water:RAQ');
    assert.deepEqual(
      audit.map((a) => [a.actor, a.fromState, a.toState]),
      [['staff:console', 'true', 'false']],
    );
    const bad = await postForm(t.url, '/admin/console/coverage', staff.cookie, {
      _csrf: staff.csrf,
      cell: 'nobody|RAQ|0',
    });
    assert.equal(bad.status, 400);

    const held = await heldPayment(t, '1000301');
    const resolved = await postForm(t.url, `/admin/console/held/${held}/resolve`, staff.cookie, {
      _csrf: staff.csrf,
      status: 'failed',
      note: 'refunded by the wallet',
    });
    assert.equal(resolved.status, 303);
    assert.equal((await store.getPayment(held))?.status, 'failed');
    const trail = await store.auditTrail('payment', held);
    assert.ok(trail.some((a) => a.actor === 'staff:console'));
    const again = await postForm(t.url, `/admin/console/held/${held}/resolve`, staff.cookie, {
      _csrf: staff.csrf,
      status: 'failed',
      note: 'twice',
    });
    assert.equal(again.status, 409);
  });

  it('cancels a broadcast from the console, with the right token', async () => {
    // A real Telegram chat while Telegram is off: its row waits for retries, so the broadcast
    // is still sending when staff cancel it.
    await t.tasdeed.store.ensureIdentity('telegram', '555000111', 'ar');
    const created = await t.tasdeed.broadcasts.create({
      text: { ar: 'رسالة ستُلغى' },
      audience: { all: true },
      channels: ['telegram'],
      urgent: true,
      createdBy: 'test',
    });
    await t.tasdeed.broadcasts.idle();
    const res = await postForm(
      t.url,
      `/admin/console/broadcasts/${created.id}/cancel`,
      staff.cookie,
      {
        _csrf: staff.csrf,
      },
    );
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /cancelled=1#progress$/);
    assert.equal((await t.tasdeed.broadcasts.progress(created.id))?.status, 'cancelled');
    // The row may have been in flight (its send failing: Telegram is off); it ends cancelled
    // as soon as that attempt finishes, and is not tried again.
    const progress = await waitFor('the row to be cancelled', async () => {
      const p = await t.tasdeed.broadcasts.progress(created.id);
      return p && p.counts.cancelled === 1 && p.counts.queued === 0 ? p : null;
    });
    assert.equal(progress.counts.sent, 0);
    const page = await get(
      t,
      `/admin/console/broadcasts?watch=${created.id}&cancelled=1`,
      staff.cookie,
    );
    const html = await page.text();
    assert.match(html, /أُلغيت الرسالة/);
    assert.doesNotMatch(html, /id="cancel-form"/, 'nothing left to cancel');
  });

  it('ends the session at logout: the same cookie no longer opens anything', async () => {
    const session = await consoleLogin(t.url);
    const res = await postForm(t.url, '/admin/logout', session.cookie, { _csrf: session.csrf });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/admin/login?ended=1');
    assert.ok(
      res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=;`)),
      'the browser is told to forget the cookie',
    );
    // Someone who kept a copy of the cookie gets nothing either.
    assert.equal((await get(t, '/admin', session.cookie)).status, 303);
    assert.equal((await api(t, 'GET', '/admin/payments', { Cookie: session.cookie })).status, 401);
    // Other sessions go on.
    assert.equal((await get(t, '/admin', staff.cookie)).status, 200);
  });
});

describe('staff console: login lockout', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed({ env: { PUBLIC_URL: 'https://tasdeed.example' } });
  });
  after(async () => {
    await t.close();
  });

  const attempt = async (token: string) => {
    const form = await loginForm(t.url);
    return postForm(t.url, '/admin/login', form.cookie, { _csrf: form.csrf, token });
  };

  it('marks the cookie Secure when PUBLIC_URL is https', async () => {
    const res = await attempt(ADMIN_TOKEN);
    assert.equal(res.status, 303);
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    assert.match(set ?? '', /Secure/);
  });

  it('forgets earlier failures after a successful login', async () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) assert.equal((await attempt('wrong-token')).status, 401);
      assert.equal((await attempt(ADMIN_TOKEN)).status, 303);
    }
  });

  it('answers 429 with Retry-After after 5 failures, even to the right token', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await attempt(`wrong-${i}`);
      assert.equal(res.status, 401);
      assert.match(await res.text(), /الرمز غير صحيح/);
    }
    const locked = await attempt(ADMIN_TOKEN);
    assert.equal(locked.status, 429);
    const wait = Number(locked.headers.get('retry-after'));
    assert.ok(wait > 0 && wait <= 15 * 60, `Retry-After ${wait}`);
    assert.equal(
      locked.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`)),
      false,
    );
    // Locked attempts are not recorded: the log holds the 5 failures that locked it.
    const failures = await t.tasdeed.store.auditTrail('console-login', '127.0.0.1');
    assert.equal(failures.filter((a) => a.action === 'login-failed').length, 8 + 5);
    // The bearer API shares the count: the right token is refused too.
    const bearer = await fetch(`${t.url}/admin/payments`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(bearer.status, 429);
  });

  it('lifts the lock once the failures are 15 minutes old', async () => {
    const store = t.tasdeed.store;
    assert.ok(isSqlStore(store));
    const throttle = new SqlLoginThrottle(store);
    const at = (ms: number) => new LoginLockout(throttle, store, () => Date.now() + ms);
    const wait = async (ms: number, client = '127.0.0.1') =>
      (await at(ms).attempt(client, 'staff:console')).retryAfter;
    assert.ok((await wait(0)) !== null);
    assert.ok((await wait(14 * 60_000)) !== null);
    assert.equal(await wait(15 * 60_000 + 1_000), null);
    assert.equal(await wait(0, '10.0.0.7'), null, 'other addresses are not locked');
  });

  it('ends a session after 8 hours', async () => {
    const now = Date.now();
    const sessions = new ConsoleSessions(ADMIN_TOKEN, {
      secure: false,
      isEnded: () => Promise.resolve(false),
      now: () => now,
    });
    const { value } = sessions.issue();
    const request = (cookie: string) => ({ get: () => cookie }) as unknown as Request;
    assert.ok(await sessions.fromRequest(request(`${SESSION_COOKIE}=${value}`)));
    const later = new ConsoleSessions(ADMIN_TOKEN, {
      secure: false,
      isEnded: () => Promise.resolve(false),
      now: () => now + 8 * 3_600_000 + 1,
    });
    assert.equal(await later.fromRequest(request(`${SESSION_COOKIE}=${value}`)), null, 'expired');
  });
});

describe('staff console: no admin token', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed({ env: { TASDEED_ADMIN_TOKEN: '' } });
  });
  after(async () => {
    await t.close();
  });

  it('answers 404 on every /admin route, pages, login, assets and API alike', async () => {
    for (const path of [...PAGES, '/admin/login', '/admin/assets/console.css']) {
      assert.equal((await get(t, path)).status, 404, path);
    }
    const routes: Array<[string, string]> = [
      ...API,
      ['POST', '/admin/login'],
      ['POST', '/admin/logout'],
    ];
    for (const [method, path] of routes) {
      assert.equal((await api(t, method, path)).status, 404, `${method} ${path}`);
    }
    assert.equal((await get(t, '/sandbox')).status, 200, 'the sandbox page does not need it');
  });
});

describe('sandbox page off', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed({ env: { TASDEED_SANDBOX: '0' } });
  });
  after(async () => {
    await t.close();
  });

  it('answers 404 for the page and its files, and the console does not link to it', async () => {
    assert.equal((await get(t, '/sandbox')).status, 404);
    assert.equal((await get(t, '/sandbox/assets/sandbox.js')).status, 404);
    const staff = await consoleLogin(t.url);
    const html = await (await get(t, '/admin', staff.cookie)).text();
    assert.doesNotMatch(html, /href="\/sandbox"/);
  });
});
