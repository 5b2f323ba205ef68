import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { AndroidSmsConfig } from '../../src/config/env.js';
import { AndroidGateway } from '../../src/sms/android/android.gateway.js';
import type { E164 } from '../../src/sms/phone.js';
import type { SmsSendResult } from '../../src/sms/sms-gateway.port.js';

const codeOf = (r: SmsSendResult) => (r.status === 'sent' ? null : r.code);
const errorOf = (r: SmsSendResult) => (r.status === 'sent' ? '' : r.error);
import { startFakeAndroidSms, type FakeAndroidSms } from '../support/fake-android-sms.server.js';

const TO = '+963944123456' as E164;

describe('AndroidGateway', () => {
  let fake: FakeAndroidSms;
  let config: AndroidSmsConfig;

  before(async () => {
    fake = await startFakeAndroidSms();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.messages.length = 0;
    fake.requests.length = 0;
    fake.paths = 'both';
    config = {
      url: fake.url,
      user: fake.user,
      password: fake.password,
      webhookSecret: fake.webhookSecret,
    };
  });

  it('POSTs { textMessage: { text }, phoneNumbers } to /message with basic auth and returns the gateway id', async () => {
    const result = await new AndroidGateway(config).send(TO, 'الكهرباء 1234567: 18750 ل.س');
    assert.equal(result.status, 'sent');
    assert.equal(fake.messages.length, 1);
    const message = fake.messages[0]!;
    assert.deepEqual(result, { status: 'sent', providerMessageId: message.id });
    assert.equal(message.path, '/message');
    assert.deepEqual(message.body, {
      textMessage: { text: 'الكهرباء 1234567: 18750 ل.س' },
      phoneNumbers: [TO],
      withDeliveryReport: true,
    });
    assert.equal(
      message.headers.authorization,
      `Basic ${Buffer.from(`${fake.user}:${fake.password}`).toString('base64')}`,
    );
    assert.equal(message.headers['content-type'], 'application/json');
  });

  it('works with a cloud-style base URL (/3rdparty/v1)', async () => {
    const result = await new AndroidGateway({ ...config, url: `${fake.url}/3rdparty/v1/` }).send(
      TO,
      'hello',
    );
    assert.equal(result.status, 'sent');
    assert.equal(fake.messages[0]!.path, '/3rdparty/v1/message');
  });

  it('sends our message id as the gateway message id', async () => {
    const result = await new AndroidGateway(config).send(TO, 'hello', {
      clientMessageId: 'outbox-42',
    });
    assert.deepEqual(result, { status: 'sent', providerMessageId: 'outbox-42' });
    assert.equal(fake.messages[0]!.body.id, 'outbox-42');
  });

  it('counts a retry the phone already has (409) as sent: one SMS, not two', async () => {
    fake.loseNextAnswer();
    const gateway = new AndroidGateway(config);
    const first = await gateway.send(TO, 'once', { clientMessageId: 'outbox-43' });
    assert.equal(first.status, 'temporary', 'the answer was lost');
    const again = await gateway.send(TO, 'once', { clientMessageId: 'outbox-43' });
    assert.deepEqual(again, { status: 'sent', providerMessageId: 'outbox-43' });
    assert.equal(fake.messages.length, 1, 'the phone took it once');
    assert.deepEqual(
      fake.requests.map((r) => JSON.parse(r.body) as { id?: string }).map((b) => b.id),
      ['outbox-43', 'outbox-43'],
    );
  });

  /** Sends one message per client id, each accepted. */
  async function sendEach(gateway: AndroidGateway, ...ids: string[]): Promise<void> {
    for (const id of ids) {
      assert.equal((await gateway.send(TO, id, { clientMessageId: id })).status, 'sent', id);
    }
  }

  /** The paths the phone was asked, in order. */
  const paths = () => fake.requests.map((r) => r.path);

  it('falls back to /messages when /message answers 404, and keeps to it', async () => {
    fake.paths = '/messages';
    await sendEach(new AndroidGateway(config), 'p-1', 'p-2');
    assert.deepEqual(paths(), ['/message', '/messages', '/messages']);
    assert.deepEqual(
      fake.messages.map((m) => m.id),
      ['p-1', 'p-2'],
    );
  });

  it('falls back under the cloud base URL too (/3rdparty/v1/messages)', async () => {
    fake.paths = '/messages';
    await sendEach(new AndroidGateway({ ...config, url: `${fake.url}/3rdparty/v1` }), 'p-3');
    assert.deepEqual(paths(), ['/3rdparty/v1/message', '/3rdparty/v1/messages']);
  });

  it('stays on /message where only /message is served', async () => {
    fake.paths = '/message';
    await sendEach(new AndroidGateway(config), 'p-4', 'p-5');
    assert.deepEqual(paths(), ['/message', '/message']);
  });

  it('fails permanently when neither path exists, and tries /message again next time', async () => {
    const gateway = new AndroidGateway({ ...config, url: `${fake.url}/nowhere` });
    const result = await gateway.send(TO, 'x', { clientMessageId: 'p-6' });
    assert.equal(result.status, 'permanent');
    assert.equal(codeOf(result), 'HTTP_404');
    // The next message tries /message first again.
    await gateway.send(TO, 'y', { clientMessageId: 'p-7' });
    assert.deepEqual(paths(), [
      '/nowhere/message',
      '/nowhere/messages',
      '/nowhere/message',
      '/nowhere/messages',
    ]);
    assert.equal(fake.messages.length, 0);
  });

  it('fails permanently on wrong credentials (401), without the password in the error', async () => {
    const result = await new AndroidGateway({ ...config, password: 'wrong-password' }).send(
      TO,
      'x',
    );
    assert.equal(result.status, 'permanent');
    assert.equal(codeOf(result), 'HTTP_401');
    assert.doesNotMatch(JSON.stringify(result), /wrong-password|fake-android-password/);
  });

  it('fails permanently when the gateway refuses the message (400)', async () => {
    const result = await new AndroidGateway(config).send('+12' as E164, 'x');
    assert.equal(result.status, 'permanent');
    assert.equal(fake.messages.length, 0);
  });

  it('retries 429 (with Retry-After), 500 and an unreachable phone', async () => {
    fake.failNext(429).failNext(500);
    const gateway = new AndroidGateway(config);
    assert.equal((await gateway.send(TO, 'one')).status, 'temporary');
    assert.equal((await gateway.send(TO, 'two')).status, 'temporary');
    const down = await new AndroidGateway({ ...config, url: 'http://127.0.0.1:9' }).send(TO, 'x');
    assert.equal(down.status, 'temporary');
    assert.equal(codeOf(down), 'NETWORK');
  });

  it('reads Retry-After on 429', async () => {
    const fetch429: typeof fetch = () =>
      Promise.resolve(new Response('{}', { status: 429, headers: { 'Retry-After': '7' } }));
    const result = await new AndroidGateway(config, { fetch: fetch429 }).send(TO, 'x');
    assert.deepEqual(result.status === 'temporary' && result.retryAfterMs, 7000);
  });

  it('treats an accepted answer without a message id as sent (sending again would send it twice)', async () => {
    const odd: typeof fetch = () => Promise.resolve(new Response('{"ok":true}', { status: 202 }));
    const gateway = new AndroidGateway(config, { fetch: odd });
    assert.deepEqual(await gateway.send(TO, 'x'), { status: 'sent', providerMessageId: null });
    const empty: typeof fetch = () => Promise.resolve(new Response('', { status: 200 }));
    assert.deepEqual(
      await new AndroidGateway(config, { fetch: empty }).send(TO, 'x', { clientMessageId: 'c-1' }),
      { status: 'sent', providerMessageId: 'c-1' },
      'the gateway names the message by our id',
    );
  });

  it('times out as a temporary failure', async () => {
    const hang: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
      });
    const result = await new AndroidGateway(config, { fetch: hang, timeoutMs: 20 }).send(TO, 'x');
    assert.equal(result.status, 'temporary');
    assert.match(errorOf(result), /timed out/);
  });
});
