import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TwilioConfig } from '../../src/config/env.js';
import type { E164 } from '../../src/sms/phone.js';
import type { SmsSendResult } from '../../src/sms/sms-gateway.port.js';

const codeOf = (r: SmsSendResult) => (r.status === 'sent' ? null : r.code);

import { RootRewritingRequestClient, TwilioGateway } from '../../src/sms/twilio/twilio.gateway.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.server.js';

const TO = '+4915123456789' as E164;

describe('TwilioGateway', () => {
  let fake: FakeTwilio;
  let config: TwilioConfig;
  let gateway: TwilioGateway;

  before(async () => {
    fake = await startFakeTwilio();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.messages.length = 0;
    fake.requests.length = 0;
    config = {
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      from: '+15005550006',
      apiRoot: fake.url,
    };
    gateway = new TwilioGateway(config);
  });

  it('sends From, To, Body and StatusCallback as a form to Messages.json with basic auth', async () => {
    const result = await gateway.send(TO, 'فاتورة الكهرباء: 18750 ل.س', {
      statusCallbackUrl: 'https://tasdeed.example/sms/twilio/status',
    });
    assert.equal(result.status, 'sent');
    assert.equal(fake.messages.length, 1);
    const message = fake.messages[0]!;
    assert.deepEqual(result, { status: 'sent', providerMessageId: message.sid });
    assert.match(message.sid, /^SM[0-9a-f]{32}$/);
    assert.deepEqual(message.form, {
      From: '+15005550006',
      To: TO,
      Body: 'فاتورة الكهرباء: 18750 ل.س',
      StatusCallback: 'https://tasdeed.example/sms/twilio/status',
    });
    const expectedAuth = `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')}`;
    assert.equal(message.headers.authorization, expectedAuth);
    assert.equal(fake.requests[0]!.path, `/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
  });

  it('sends no StatusCallback when none is given', async () => {
    await gateway.send(TO, 'hello');
    assert.equal('StatusCallback' in fake.messages[0]!.form, false);
  });

  it('sends a Messaging Service SID as MessagingServiceSid', async () => {
    const mg = `MG${'a'.repeat(32)}`;
    const result = await new TwilioGateway({ ...config, from: mg }).send(TO, 'hello');
    assert.equal(result.status, 'sent');
    assert.equal(fake.messages[0]!.form.MessagingServiceSid, mg);
    assert.equal('From' in fake.messages[0]!.form, false);
  });

  it('maps 21610 to opted-out', async () => {
    fake.failNext({
      status: 400,
      code: 21610,
      message: 'Attempt to send to unsubscribed recipient',
    });
    const result = await gateway.send(TO, 'hello');
    assert.equal(result.status, 'opted-out');
    assert.equal(codeOf(result), '21610');
  });

  it('maps 21211 (invalid To) to a permanent failure', async () => {
    fake.failNext({ status: 400, code: 21211, message: "Invalid 'To' Phone Number" });
    const result = await gateway.send(TO, 'hello');
    assert.equal(result.status, 'permanent');
    assert.equal(codeOf(result), '21211');
  });

  it('maps 429/20429 and 500 to temporary failures, and sends nothing twice itself', async () => {
    fake.failNext({ status: 429, code: 20429, message: 'Too Many Requests' });
    fake.failNext({ status: 500, code: 20500, message: 'Internal Server Error' });
    assert.equal((await gateway.send(TO, 'one')).status, 'temporary');
    assert.equal((await gateway.send(TO, 'two')).status, 'temporary');
    assert.equal(fake.requests.length, 2, 'the SDK must not retry on its own');
    assert.equal(fake.messages.length, 0);
  });

  it('fails permanently with wrong credentials (20003), without the token in the error', async () => {
    const result = await new TwilioGateway({ ...config, authToken: 'wrong-token' }).send(TO, 'x');
    assert.equal(result.status, 'permanent');
    assert.equal(codeOf(result), '20003');
    assert.doesNotMatch(JSON.stringify(result), /wrong-token|fake-twilio-auth-token/);
  });

  it('reports an unreachable API as a temporary failure', async () => {
    const down = new TwilioGateway({ ...config, apiRoot: 'http://127.0.0.1:9' });
    const result = await down.send(TO, 'x');
    assert.equal(result.status, 'temporary');
    assert.equal(codeOf(result), 'NETWORK');
  });
});

describe('RootRewritingRequestClient', () => {
  it('leaves requests alone when the root is Twilio’s own', async () => {
    const seen: string[] = [];
    const client = new RootRewritingRequestClient('https://api.twilio.com/');
    client.axios.interceptors.request.use((cfg) => {
      seen.push(String(cfg.url));
      throw new Error('stop here');
    });
    await assert.rejects(
      client.request({ method: 'get', uri: 'https://api.twilio.com/2010-04-01/Accounts.json' }),
    );
    assert.deepEqual(seen, ['https://api.twilio.com/2010-04-01/Accounts.json']);
  });
});
