import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { HttpBiller } from '../../src/adapters/biller/http.biller.js';
import { qirsh } from '../../src/core/money.js';
import { BillerUnavailableError } from '../../src/core/ports/biller.port.js';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';

const TOKEN = 't0k';
const ACCOUNT = {
  account: '1234567',
  holder: 'محمد خالد الأحمد',
  governorate: 'DAM',
  bills: [
    {
      id: 'B-1',
      period: '7-8',
      amountMinor: 1_650_000,
      dueDate: '2026-09-28',
      status: 'paid' as const,
    },
    {
      id: 'B-2',
      period: '9-10',
      amountMinor: 1_875_000,
      dueDate: '2026-11-28',
      status: 'unpaid' as const,
    },
  ],
};

function settlement(billId: string, paymentId: string) {
  return {
    billId,
    paymentId,
    amountMinor: qirsh(1_875_000),
    channel: 'wallet',
    providerRef: 'fp_0001',
    paidAt: new Date('2026-11-20T08:30:00.000Z'),
  };
}

void describe('HttpBiller', () => {
  let fb: FakeBiller;
  let biller: HttpBiller;

  before(async () => {
    fb = await startFakeBiller({ token: TOKEN });
    biller = new HttpBiller({ billerId: 'electricity', baseUrl: `${fb.url}/`, token: TOKEN });
  });
  after(() => fb.close());
  afterEach(() => {
    fb.delayMs = 0;
    fb.down = false;
    fb.token = TOKEN;
    fb.addAccount(ACCOUNT);
  });

  void it('reads an account and its bills, with the bearer token', async () => {
    fb.addAccount(ACCOUNT);
    const got = await biller.getAccount('1234567');
    assert.deepEqual(got, {
      account: '1234567',
      holder: 'محمد خالد الأحمد',
      governorate: 'DAM',
      bills: ACCOUNT.bills.map((b) => ({ ...b, currency: 'SYP' })),
    });
    const req = fb.requests.at(-1)!;
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/accounts/1234567/bills');
    assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  });

  void it('encodes the account in the path', async () => {
    assert.equal(await biller.getAccount('12/34 5'), null);
    assert.equal(fb.requests.at(-1)!.path, '/accounts/12%2F34%205/bills');
  });

  void it('answers null for an unknown account (404)', async () => {
    assert.equal(await biller.getAccount('999999'), null);
  });

  void it('maps a governorate name to its code', async () => {
    fb.addAccount({ ...ACCOUNT, account: '7654321', governorate: 'Aleppo' });
    assert.equal((await biller.getAccount('7654321'))?.governorate, 'ALE');
  });

  for (const [name, body] of [
    [
      'a float amount',
      { ...ACCOUNT, bills: [{ ...ACCOUNT.bills[0], amountMinor: 12.5, currency: 'SYP' }] },
    ],
    [
      'a negative amount',
      { ...ACCOUNT, bills: [{ ...ACCOUNT.bills[0], amountMinor: -1, currency: 'SYP' }] },
    ],
    ['another currency', { ...ACCOUNT, bills: [{ ...ACCOUNT.bills[0], currency: 'USD' }] }],
    [
      'a bad date',
      { ...ACCOUNT, bills: [{ ...ACCOUNT.bills[0], dueDate: '2026-02-30', currency: 'SYP' }] },
    ],
    [
      'an unknown status',
      { ...ACCOUNT, bills: [{ ...ACCOUNT.bills[0], status: 'overdue', currency: 'SYP' }] },
    ],
    ['no bills', { account: ACCOUNT.account, holder: 'x', governorate: 'DAM' }],
    ['another account', { ...ACCOUNT, account: '1111111', bills: [] }],
    ['not JSON', '<html>maintenance</html>'],
  ] as const) {
    void it(`treats ${name} as unavailable ("invalid body")`, async () => {
      fb.failNext(1, 200, body);
      await assert.rejects(biller.getAccount('1234567'), (err: unknown) => {
        assert.ok(err instanceof BillerUnavailableError);
        assert.equal(err.billerId, 'electricity');
        assert.match(err.message, /invalid body/);
        return true;
      });
    });
  }

  void it('treats a 503 as unavailable, naming the status', async () => {
    fb.down = true;
    await assert.rejects(biller.getAccount('1234567'), (err: unknown) => {
      assert.ok(err instanceof BillerUnavailableError);
      assert.match(err.message, /503/);
      assert.ok(err.cause);
      return true;
    });
  });

  void it('treats a wrong token (401) as unavailable', async () => {
    fb.token = 'other';
    await assert.rejects(biller.getAccount('1234567'), /401/);
  });

  void it('gives up after timeoutMs with "timed out"', async () => {
    const quick = new HttpBiller({
      billerId: 'electricity',
      baseUrl: fb.url,
      token: TOKEN,
      timeoutMs: 200,
    });
    fb.delayMs = 1000;
    const started = Date.now();
    await assert.rejects(quick.getAccount('1234567'), (err: unknown) => {
      assert.ok(err instanceof BillerUnavailableError);
      assert.match(err.message, /timed out after 200 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 900, 'did not wait for the answer');
  });

  void it('reports a network error as unavailable', async () => {
    const nowhere = new HttpBiller({
      billerId: 'water',
      baseUrl: 'http://127.0.0.1:1',
      timeoutMs: 1000,
    });
    await assert.rejects(nowhere.getAccount('1'), (err: unknown) => {
      assert.ok(err instanceof BillerUnavailableError);
      assert.match(err.message, /failed/);
      assert.ok(err.cause);
      return true;
    });
  });

  void it('honours the caller signal', async () => {
    fb.delayMs = 1000;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(biller.getAccount('1234567', ac.signal), /aborted by the caller/);
  });

  void it('posts a settlement with the exact headers and body', async () => {
    fb.addAccount(ACCOUNT);
    const result = await biller.settle(settlement('B-2', 'P-1'));
    assert.equal(result, 'acknowledged');
    const req = fb.requests.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/bills/B-2/settlements');
    assert.equal(req.headers['idempotency-key'], 'P-1');
    assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
    assert.match(String(req.headers['content-type']), /^application\/json/);
    assert.deepEqual(req.json, {
      paymentId: 'P-1',
      amountMinor: 1_875_000,
      channel: 'wallet',
      providerRef: 'fp_0001',
      paidAt: '2026-11-20T08:30:00.000Z',
    });
    assert.equal(fb.bill('B-2')?.status, 'paid');
    assert.equal(fb.effects(), 1);
  });

  void it('acknowledges a repeated key once more without a second effect', async () => {
    fb.addAccount(ACCOUNT);
    const before = fb.effects();
    assert.equal(await biller.settle(settlement('B-2', 'P-2')), 'acknowledged');
    assert.equal(await biller.settle(settlement('B-2', 'P-2')), 'acknowledged');
    assert.equal(fb.effects(), before + 1);
    assert.deepEqual(
      fb.settlements.filter((s) => s.idempotencyKey === 'P-2').map((s) => s.outcome),
      ['settled', 'replayed'],
    );
  });

  void it('reports 409 as a conflict', async () => {
    fb.addAccount(ACCOUNT);
    fb.conflictBills.add('B-2');
    try {
      assert.equal(await biller.settle(settlement('B-2', 'P-3')), 'conflict');
    } finally {
      fb.conflictBills.delete('B-2');
    }
    fb.markPaid('B-2');
    assert.equal(await biller.settle(settlement('B-2', 'P-4')), 'conflict');
  });

  void it('throws unavailable for a settlement answered 500 or not at all', async () => {
    fb.addAccount(ACCOUNT);
    fb.failNext(1, 500);
    await assert.rejects(biller.settle(settlement('B-2', 'P-5')), (err: unknown) => {
      assert.ok(err instanceof BillerUnavailableError);
      assert.match(err.message, /500/);
      return true;
    });
    const quick = new HttpBiller({
      billerId: 'electricity',
      baseUrl: fb.url,
      token: TOKEN,
      timeoutMs: 200,
    });
    fb.hangSettlements = true;
    try {
      await assert.rejects(quick.settle(settlement('B-2', 'P-5')), /timed out after 200 ms/);
      assert.equal(fb.bill('B-2')?.status, 'paid', 'applied although not answered');
    } finally {
      fb.hangSettlements = false;
    }
    // The retry with the same key is acknowledged, still one effect.
    assert.equal(await biller.settle(settlement('B-2', 'P-5')), 'acknowledged');
    assert.equal(
      fb.settlements.filter((s) => s.idempotencyKey === 'P-5' && s.outcome === 'settled').length,
      1,
    );
  });
});
