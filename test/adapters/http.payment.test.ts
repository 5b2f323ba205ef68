import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { HttpPaymentChannel } from '../../src/adapters/payment/http.payment.js';
import { qirsh } from '../../src/core/money.js';
import {
  PaymentChannelUnavailableError,
  type InitiatePaymentRequest,
} from '../../src/core/ports/payment.port.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';

const TOKEN = 'pay-token';

function request(paymentId: string): InitiatePaymentRequest {
  return {
    paymentId,
    amountMinor: qirsh(1_875_000),
    currency: 'SYP',
    billerId: 'electricity',
    account: '1234567',
    billId: 'B-2',
    payer: { channel: 'sms', address: '+963944123456' },
    callbackUrl: 'http://localhost:3000/payments/webhook/wallet',
  };
}

void describe('HttpPaymentChannel', () => {
  let fp: FakePaymentChannel;
  let channel: HttpPaymentChannel;

  before(async () => {
    fp = await startFakePaymentChannel({ webhookSecret: 's3cr3t', token: TOKEN });
    channel = new HttpPaymentChannel({ channelId: 'wallet', baseUrl: fp.url, token: TOKEN });
  });
  after(() => fp.close());
  afterEach(() => {
    fp.down = false;
    fp.delayMs = 0;
  });

  void it('initiates with the exact contract body, Idempotency-Key and callbackUrl', async () => {
    const result = await channel.initiate(request('P-1'));
    assert.equal(result.status, 'pending');
    assert.match(result.providerRef, /^fp_/);
    assert.equal(result.instructions, 'Approve the payment in your wallet app.');
    const init = fp.initiations.at(-1)!;
    assert.equal(init.idempotencyKey, 'P-1');
    assert.equal(init.headers.authorization, `Bearer ${TOKEN}`);
    assert.match(String(init.headers['content-type']), /^application\/json/);
    assert.deepEqual(init.body, {
      reference: 'P-1',
      amountMinor: 1_875_000,
      currency: 'SYP',
      biller: 'electricity',
      account: '1234567',
      billId: 'B-2',
      payer: { channel: 'sms', address: '+963944123456' },
      callbackUrl: 'http://localhost:3000/payments/webhook/wallet',
    });
    assert.equal(Object.keys(init.body as object).length, 8, 'no extra fields');
  });

  void it('gets the same providerRef for the same payment id', async () => {
    const a = await channel.initiate(request('P-2'));
    const b = await channel.initiate(request('P-2'));
    assert.equal(a.providerRef, b.providerRef);
    assert.equal(fp.initiations.filter((i) => i.idempotencyKey === 'P-2').length, 2);
    assert.equal(fp.paymentFor('P-2')?.providerRef, a.providerRef);
  });

  void it('omits absent instructions', async () => {
    fp.instructions = undefined;
    try {
      const result = await channel.initiate(request('P-3'));
      assert.equal('instructions' in result, false);
    } finally {
      fp.instructions = 'Approve the payment in your wallet app.';
    }
  });

  void it('asks for the status', async () => {
    const { providerRef } = await channel.initiate(request('P-4'));
    assert.deepEqual(await channel.status(providerRef), {
      status: 'pending',
      amountMinor: 1_875_000,
    });
    fp.setStatus(providerRef, 'succeeded', 1_875_000);
    assert.deepEqual(await channel.status(providerRef), {
      status: 'succeeded',
      amountMinor: 1_875_000,
    });
    fp.setStatus(providerRef, 'expired', null);
    assert.deepEqual(await channel.status(providerRef), { status: 'expired' });
    assert.equal(fp.requests.at(-1)!.path, `/payments/${providerRef}`);
  });

  void it('reports an unknown providerRef (404) as unavailable', async () => {
    await assert.rejects(channel.status('nope'), (err: unknown) => {
      assert.ok(err instanceof PaymentChannelUnavailableError);
      assert.equal(err.channelId, 'wallet');
      assert.match(err.message, /404/);
      return true;
    });
  });

  void it('reports 5xx, garbage, a bad shape, a timeout and a dead host as unavailable', async () => {
    fp.failNext(1, 502);
    await assert.rejects(channel.initiate(request('P-5')), /answered 502/);
    fp.failNext(1, 200, 'not json');
    await assert.rejects(channel.initiate(request('P-5')), /invalid body: not JSON/);
    fp.failNext(1, 200, { providerRef: 'x', status: 'done' });
    await assert.rejects(channel.initiate(request('P-5')), /invalid body/);
    fp.failNext(1, 200, { status: 'succeeded', amountMinor: 1.5 });
    await assert.rejects(channel.status('fp_0001'), /invalid body/);

    const quick = new HttpPaymentChannel({
      channelId: 'wallet',
      baseUrl: fp.url,
      token: TOKEN,
      timeoutMs: 200,
    });
    fp.delayMs = 1000;
    await assert.rejects(quick.status('fp_0001'), (err: unknown) => {
      assert.ok(err instanceof PaymentChannelUnavailableError);
      assert.match(err.message, /timed out after 200 ms/);
      return true;
    });
    fp.delayMs = 0;

    const dead = new HttpPaymentChannel({
      channelId: 'wallet',
      baseUrl: 'http://127.0.0.1:1',
      timeoutMs: 1000,
    });
    await assert.rejects(dead.initiate(request('P-6')), PaymentChannelUnavailableError);
  });

  void it('reports a wrong token (401) as unavailable', async () => {
    const wrong = new HttpPaymentChannel({ channelId: 'wallet', baseUrl: fp.url, token: 'bad' });
    await assert.rejects(wrong.initiate(request('P-7')), /401/);
  });
});
