/**
 * Slow and numerous clients: a client that sends its headers or its body a byte at a time is
 * cut off once HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS are over (not minutes later); a
 * webhook without its signature header is refused before its body is read, so a body that
 * never ends holds nothing; a connection beyond HTTP_MAX_CONNECTIONS is refused.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { signWebhook } from '../../src/core/payments/webhook-signature.js';
import { FakeTelegram } from '../support/fake-telegram.server.js';
import { startTasdeed, waitFor, type Running } from '../support/harness.js';

/** How long a test waits for the server to act before it says the server did not. */
const PATIENCE_MS = 8_000;

interface RawClient {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with the time from connecting to the server's close, or null after PATIENCE_MS. */
  closed: Promise<number | null>;
  stop(): void;
}

/** A TCP connection to Tasdeed that writes what it is told, when it is told. */
async function rawClient(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const started = performance.now();
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<number | null>((resolve) => {
    timer = setTimeout(() => resolve(null), PATIENCE_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
  });
  return {
    socket,
    received: () => data,
    closed,
    stop() {
      clearTimeout(timer);
      socket.destroy();
    },
  };
}

/** Writes `text` one byte every `everyMs` until the socket closes. */
function trickle(client: RawClient, text: string, everyMs: number): void {
  let i = 0;
  const tick = setInterval(() => {
    if (client.socket.destroyed || i >= text.length) {
      clearInterval(tick);
      return;
    }
    client.socket.write(text[i++]!);
  }, everyMs);
}

function post(path: string, headers: Record<string, string>, contentLength: number): string {
  const lines = [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Content-Length: ${contentLength}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

describe('slow clients, with short timeouts', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed({
      env: { HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '1000' },
    });
  });
  after(async () => {
    await t.close();
  });

  it('closes a connection whose body comes a byte at a time once the request timeout is over', async () => {
    const [channelId, secret] = [...t.tasdeed.webhookSecrets][0]!;
    const body = JSON.stringify({ eventId: 'e', providerRef: 'r', reference: 'P-0', status: 'x' });
    const cases = [
      post('/sandbox/messages', { 'Content-Type': 'application/json' }, 200),
      post(
        `/payments/webhook/${channelId}`,
        {
          'Content-Type': 'application/json',
          'X-Tasdeed-Signature': signWebhook(secret, body, Math.floor(Date.now() / 1000)),
        },
        200,
      ),
    ];
    const clients = await Promise.all(cases.map(() => rawClient(t.url)));
    for (const [i, head] of cases.entries()) {
      clients[i]!.socket.write(head);
      trickle(clients[i]!, 'x'.repeat(200), 150);
    }
    for (const client of clients) {
      const ms = await client.closed;
      client.stop();
      assert.ok(ms !== null, `still open after ${PATIENCE_MS} ms`);
      // The request timeout runs from the server's accept; Node checks it every 250 ms here.
      assert.ok(ms < 4_000, `closed after ${Math.round(ms)} ms`);
      assert.match(client.received(), /^HTTP\/1\.1 408 /, 'answered Request Timeout');
    }
  });

  it('closes a connection whose headers come a byte at a time once the header timeout is over', async () => {
    const client = await rawClient(t.url);
    trickle(client, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes\r\n\r\n', 100);
    const ms = await client.closed;
    client.stop();
    assert.ok(ms !== null, `still open after ${PATIENCE_MS} ms`);
    assert.ok(ms < 4_000, `closed after ${Math.round(ms)} ms`);
    assert.doesNotMatch(client.received(), /^HTTP\/1\.1 200 /);
  });
});

describe('webhooks without their signature header', () => {
  let t: Running;
  let telegram: FakeTelegram;
  before(async () => {
    telegram = await new FakeTelegram().start();
    t = await startTasdeed({
      env: {
        SMS_GATEWAY: 'twilio,android',
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'fake-twilio-auth-token',
        TWILIO_FROM: '+15005550006',
        TWILIO_API_ROOT: 'http://127.0.0.1:9',
        ANDROID_SMS_URL: 'http://127.0.0.1:9',
        ANDROID_SMS_USER: 'sms',
        ANDROID_SMS_PASSWORD: 'fake-android-password',
        ANDROID_SMS_WEBHOOK_SECRET: 'fake-android-signing-key',
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_WEBHOOK_SECRET: 'slow-test-telegram-secret',
      },
    });
  });
  after(async () => {
    await t.close();
    await telegram.close();
  });

  it('are refused at once, while the body has not even started', async () => {
    const [channelId] = [...t.tasdeed.webhookSecrets][0]!;
    const cases: Array<[string, string, number]> = [
      [`/payments/webhook/${channelId}`, 'application/json', 401],
      ['/payments/webhook/no-such-channel', 'application/json', 401],
      ['/sms/twilio/inbound', 'application/x-www-form-urlencoded', 400],
      ['/sms/twilio/status', 'application/x-www-form-urlencoded', 400],
      ['/sms/android/webhook', 'application/json', 401],
      ['/telegram/webhook', 'application/json', 401],
    ];
    for (const [path, type, status] of cases) {
      const client = await rawClient(t.url);
      const started = performance.now();
      client.socket.write(post(path, { 'Content-Type': type }, 100_000));
      // Never a byte of the body: only the headers decide.
      const answer = await waitFor(
        `an answer from ${path}`,
        () => /\r\n\r\n/.test(client.received()) && client.received(),
        PATIENCE_MS,
      ).catch(() => null);
      const ms = performance.now() - started;
      // And the connection is not left waiting for the body.
      const closed = await client.closed;
      client.stop();
      assert.ok(answer, `${path}: no answer in ${PATIENCE_MS} ms`);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), path);
      assert.ok(ms < 4_000, `${path}: answered after ${Math.round(ms)} ms`);
      assert.ok(closed !== null && closed < 4_000, `${path}: connection still open`);
    }
  });
});

describe('a connection cap', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed({ env: { HTTP_MAX_CONNECTIONS: '2' } });
  });
  after(async () => {
    await t.close();
  });

  it('refuses a connection beyond HTTP_MAX_CONNECTIONS, and serves again once one closes', async () => {
    const held = [await rawClient(t.url), await rawClient(t.url)];
    await waitFor('the server to count both', async () => {
      const count = await new Promise<number>((resolve) =>
        t.tasdeed.server!.getConnections((_e, n) => resolve(n)),
      );
      return count === 2;
    });
    const third = await rawClient(t.url);
    third.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const ms = await third.closed;
    third.stop();
    assert.ok(ms !== null, 'the third connection was kept open');
    assert.equal(third.received(), '', 'and it was not served');
    for (const client of held) client.stop();
    await waitFor('a connection to be served again', async () => {
      const res = await fetch(`${t.url}/healthz`).catch(() => null);
      return res?.status === 200;
    });
  });
});
