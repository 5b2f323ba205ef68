/**
 * The staff login lockout over HTTP, on the run's database (SQLite, or PostgreSQL with
 * TEST_DATABASE_URL): wrong bearer tokens on the /admin API and wrong console logins are
 * counted together per client, 5 in 15 minutes and the client gets 429 with Retry-After, even
 * for the right token; the client is the address TRUST_PROXY says; parallel attempts cannot
 * slip past the limit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, loginForm, postForm } from '../browser/console-support.js';
import { startTasdeed, type Running } from '../support/harness.js';

let clientSeq = 10;
/** A client address of its own (TEST-NET-3), so that each test starts with no failures. */
const newClient = () => `203.0.113.${++clientSeq}`;

function bearer(t: Running, token: string, client?: string): Promise<Response> {
  return fetch(`${t.url}/admin/payments`, {
    headers: {
      Authorization: `Bearer ${token}`,
      ...(client ? { 'X-Forwarded-For': client } : {}),
    },
  });
}

async function login(t: Running, token: string, client?: string): Promise<Response> {
  const form = await loginForm(t.url);
  return postForm(
    t.url,
    '/admin/login',
    form.cookie,
    { _csrf: form.csrf, token },
    client ? { 'X-Forwarded-For': client } : {},
  );
}

function assertLocked(res: Response, what: string): void {
  assert.equal(res.status, 429, what);
  const wait = Number(res.headers.get('retry-after'));
  assert.ok(wait > 0 && wait <= 15 * 60, `${what}: Retry-After ${res.headers.get('retry-after')}`);
}

describe('login lockout behind a trusted proxy (TRUST_PROXY=loopback)', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed({ env: { TRUST_PROXY: 'loopback' } });
  });
  after(async () => {
    await t.close();
  });

  it('answers 429 with Retry-After after 5 wrong bearer tokens, even to the right one', async () => {
    const client = newClient();
    for (let i = 0; i < 5; i++)
      assert.equal((await bearer(t, `wrong-token-${i}`, client)).status, 401, `attempt ${i + 1}`);
    assertLocked(await bearer(t, ADMIN_TOKEN, client), 'the right token, 6th');
    assertLocked(await login(t, ADMIN_TOKEN, client), 'the console login');
  });

  it('counts bearer and console failures together', async () => {
    const client = newClient();
    for (let i = 0; i < 3; i++) assert.equal((await bearer(t, 'wrong-token', client)).status, 401);
    for (let i = 0; i < 2; i++) assert.equal((await login(t, 'wrong-token', client)).status, 401);
    assertLocked(await login(t, ADMIN_TOKEN, client), 'console login after 3 + 2');
    assertLocked(await bearer(t, ADMIN_TOKEN, client), 'bearer after 3 + 2');
  });

  it('counts two clients behind the proxy apart', async () => {
    const [mallory, staff] = [newClient(), newClient()];
    for (let i = 0; i < 5; i++) await bearer(t, 'wrong-token', mallory);
    assertLocked(await bearer(t, ADMIN_TOKEN, mallory), 'the client that failed');
    assert.equal((await bearer(t, ADMIN_TOKEN, staff)).status, 200, 'another client');
    assert.equal((await login(t, ADMIN_TOKEN, staff)).status, 303, 'another client logs in');
  });

  it('lets exactly 5 of 40 parallel wrong attempts be answered 401, the rest 429', async () => {
    for (const attempt of [login, bearer]) {
      const client = newClient();
      // The login forms first, so that the 40 posts start together.
      const forms = await Promise.all(Array.from({ length: 40 }, () => loginForm(t.url)));
      const answers = await Promise.all(
        forms.map((form, i) =>
          attempt === login
            ? postForm(
                t.url,
                '/admin/login',
                form.cookie,
                { _csrf: form.csrf, token: `wrong-${i}` },
                { 'X-Forwarded-For': client },
              )
            : bearer(t, `wrong-${i}`, client),
        ),
      );
      const statuses = answers.map((r) => r.status);
      assert.equal(
        statuses.filter((s) => s === 401).length,
        5,
        `${attempt.name}: ${statuses.join(',')}`,
      );
      assert.equal(
        statuses.filter((s) => s === 429).length,
        35,
        `${attempt.name}: ${statuses.join(',')}`,
      );
      assertLocked(await attempt(t, ADMIN_TOKEN, client), `${attempt.name} afterwards`);
    }
  });
});

describe('login lockout without TRUST_PROXY', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed();
  });
  after(async () => {
    await t.close();
  });

  it('ignores X-Forwarded-For: every client behind a proxy is the proxy', async () => {
    for (let i = 0; i < 5; i++) await bearer(t, 'wrong-token', newClient());
    assertLocked(await bearer(t, ADMIN_TOKEN, newClient()), 'a client that never failed');
  });
});
