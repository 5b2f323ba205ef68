import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from '../../src/http/http.app.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { demoCatalogue, startTasdeed, type Running } from '../support/harness.js';

describe('operability routes', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed();
  });
  after(async () => {
    await t.close();
  });

  it('answers liveness and readiness', async () => {
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    const ready = await fetch(`${t.url}/readyz`);
    assert.equal(ready.status, 200);
  });

  it('exposes tasdeed_ metrics in Prometheus format', async () => {
    await fetch(`${t.url}/healthz`);
    const res = await fetch(`${t.url}/metrics`);
    const text = await res.text();
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(text, /^tasdeed_http_requests_total\{.*route="\/healthz".*\} \d+/m);
    assert.match(text, /^# TYPE tasdeed_payments_total counter/m);
  });

  it('guards the staff API with the bearer token', async () => {
    assert.equal((await fetch(`${t.url}/admin/payments`)).status, 401);
    assert.equal(
      (await fetch(`${t.url}/admin/payments`, { headers: { Authorization: 'Bearer wrong' } }))
        .status,
      401,
    );
    const ok = await fetch(`${t.url}/admin/payments?status=held`, {
      headers: { Authorization: 'Bearer test-admin-token-0123456789' },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { payments: [] });
  });

  it('gives every response a request id', async () => {
    const res = await fetch(`${t.url}/healthz`);
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('answers 404 as JSON for unknown routes', async () => {
    const res = await fetch(`${t.url}/nope`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'not_found' });
  });
});

describe('without an admin token', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed({ env: { TASDEED_ADMIN_TOKEN: '' } });
  });
  after(async () => {
    await t.close();
  });

  it('answers 404 on every /admin route', async () => {
    assert.equal((await fetch(`${t.url}/admin/payments`)).status, 404);
    assert.equal(
      (await fetch(`${t.url}/admin/payments/P-1/resolve`, { method: 'POST' })).status,
      404,
    );
  });

  /** The running instance's HTTP app again, with another store or logger. */
  function appWith(parts: { store?: Running['tasdeed']['store']; logger?: Logger }) {
    return createHttpApp({
      config: t.tasdeed.config,
      sandbox: t.tasdeed.sandbox.on,
      logger: parts.logger ?? createLogger({ level: 'silent' }),
      metrics: createMetrics(),
      store: parts.store ?? t.tasdeed.store,
      conversation: t.tasdeed.conversation,
      payments: t.tasdeed.payments,
      broadcasts: t.tasdeed.broadcasts,
      catalogue: demoCatalogue(),
      translator: t.tasdeed.translator,
      webhookSecrets: t.tasdeed.webhookSecrets,
      clock: { now: () => new Date() },
      wake: () => undefined,
    });
  }

  async function listen(app: ReturnType<typeof createHttpApp>) {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('logs request URLs with the phone numbers in them masked', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l) => lines.push(l) } });
    const { server, url } = await listen(appWith({ logger }));
    try {
      const res = await fetch(`${url}/sandbox/messages?channel=sms&from=%2B963944100021`);
      assert.equal(res.status, 200);
      const line = lines.find((l) => l.includes('/sandbox/messages'));
      assert.ok(line, `no request log line in ${JSON.stringify(lines)}`);
      assert.ok(!line.includes('944100021'), line);
      assert.match(line, /from=\+963\*{6}021/);
    } finally {
      server.close();
    }
  });

  it('reports not ready (503) while the database does not answer', async () => {
    // The same app, with a store whose database connection fails.
    const store = new Proxy(t.tasdeed.store, {
      get: (target, prop, receiver) =>
        prop === 'ping'
          ? () => Promise.reject(new Error('SQLITE_CANTOPEN'))
          : (Reflect.get(target, prop, receiver) as unknown),
    });
    const { server, url } = await listen(appWith({ store }));
    try {
      const res = await fetch(`${url}/readyz`);
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { status: string }).status, 'unavailable');
    } finally {
      server.close();
    }
  });
});
