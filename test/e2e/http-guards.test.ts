/**
 * Smaller guards of the HTTP front: /metrics behind METRICS_TOKEN when it is set; the bearer
 * scheme name in any case on the staff API and /metrics; Strict-Transport-Security on every
 * response when PUBLIC_URL is https, and not when it is http.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN } from '../browser/console-support.js';
import { startTasdeed, type Running } from '../support/harness.js';

const METRICS_TOKEN = 'metrics-token-0123456789';
const SCHEMES = ['Bearer', 'bearer', 'BEARER', 'bEaReR'];

function get(t: Running, path: string, authorization?: string): Promise<Response> {
  return fetch(`${t.url}${path}`, {
    redirect: 'manual',
    headers: authorization ? { Authorization: authorization } : {},
  });
}

describe('with METRICS_TOKEN and an https PUBLIC_URL', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed({
      env: { METRICS_TOKEN, PUBLIC_URL: 'https://tasdeed.example.org' },
    });
  });
  after(async () => {
    await t.close();
  });

  it('answers /metrics 401 without the token or with another, 200 with it in any case', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${METRICS_TOKEN}`]) {
      const res = await get(t, '/metrics', authorization);
      assert.equal(res.status, 401, authorization ?? 'no Authorization');
      assert.doesNotMatch(await res.text(), /tasdeed_/);
    }
    for (const scheme of SCHEMES) {
      const res = await get(t, '/metrics', `${scheme} ${METRICS_TOKEN}`);
      assert.equal(res.status, 200, scheme);
      assert.match(await res.text(), /^# TYPE tasdeed_payments_total counter/m);
    }
    assert.equal((await get(t, '/healthz')).status, 200, 'liveness stays open');
  });

  it('sends Strict-Transport-Security on every response', async () => {
    const answers = [
      await get(t, '/healthz'),
      await get(t, '/admin/login'),
      await get(t, '/admin/payments'),
      await get(t, '/metrics'),
      await get(t, '/no-such-route'),
    ];
    for (const res of answers) {
      assert.equal(
        res.headers.get('strict-transport-security'),
        'max-age=31536000; includeSubDomains',
        `${res.url} ${res.status}`,
      );
    }
  });
});

describe('with defaults (no METRICS_TOKEN, PUBLIC_URL http)', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed();
  });
  after(async () => {
    await t.close();
  });

  it('accepts the bearer scheme name in any case on the staff API', async () => {
    for (const scheme of SCHEMES) {
      const res = await get(t, '/admin/payments', `${scheme} ${ADMIN_TOKEN}`);
      assert.equal(res.status, 200, scheme);
    }
  });

  it('leaves /metrics open and sends no Strict-Transport-Security over http', async () => {
    const res = await get(t, '/metrics');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('strict-transport-security'), null);
  });
});
