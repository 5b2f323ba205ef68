import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  SIMULATED_ACCOUNTS,
  SimulatedBiller,
  simulatedAccountsFor,
} from '../../src/adapters/biller/simulated.biller.js';
import { SimulatedPaymentChannel } from '../../src/adapters/payment/simulated.payment.js';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { GOVERNORATES } from '../../src/core/domain.js';
import { Translator } from '../../src/core/i18n/translator.js';
import { qirsh } from '../../src/core/money.js';
import { verifyWebhookSignature } from '../../src/core/payments/webhook-signature.js';
import { BillerUnavailableError } from '../../src/core/ports/biller.port.js';
import {
  PaymentChannelUnavailableError,
  type InitiatePaymentRequest,
} from '../../src/core/ports/payment.port.js';
import { SandboxUser, startTasdeed, type Running } from '../support/harness.js';

function fixedClock(iso: string) {
  let now = new Date(iso);
  return {
    now: () => new Date(now),
    set(next: string) {
      now = new Date(next);
    },
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
  };
}

void describe('SimulatedBiller', () => {
  const clock = fixedClock('2026-11-10T09:00:00Z');

  for (const [billerId, prefix] of [
    ['electricity', '100'],
    ['water', '200'],
    ['telecom', '300'],
    ['gas', '900'],
  ] as const) {
    void it(`${billerId}: a demo account in every governorate`, async () => {
      const biller = new SimulatedBiller({ billerId, clock });
      for (const [i, g] of GOVERNORATES.entries()) {
        const account = `${prefix}${String(i + 1).padStart(2, '0')}01`;
        const got = await biller.getAccount(account);
        assert.ok(got, account);
        assert.equal(got.account, account);
        assert.equal(got.governorate, g.code);
        assert.match(got.holder, /^[\u0600-\u06FF ]+$/);
        assert.equal(got.bills.length, 2);
        const unpaid = got.bills.filter((b) => b.status === 'unpaid');
        assert.equal(unpaid.length, 1);
        assert.equal(unpaid[0]!.dueDate, '2026-11-28');
        assert.ok(Number.isSafeInteger(unpaid[0]!.amountMinor) && unpaid[0]!.amountMinor > 0);
        assert.equal(unpaid[0]!.amountMinor % 2500, 0, 'whole multiples of 25 pounds');
        assert.ok(got.bills.every((b) => b.currency === 'SYP'));
      }
    });
  }

  void it('labels periods in each biller style and keeps amounts in range', async () => {
    const elec = await new SimulatedBiller({ billerId: 'electricity', clock }).getAccount(
      '1000101',
    );
    assert.deepEqual(
      elec?.bills.map((b) => [b.period, b.dueDate, b.status]),
      [
        ['7-8', '2026-09-28', 'paid'],
        ['9-10', '2026-11-28', 'unpaid'],
      ],
    );
    const current = elec?.bills[1]?.amountMinor ?? -1;
    assert.ok(current >= 1_200_000 && current <= 4_000_000);
    assert.equal(current % 5000, 0, 'multiple of 50 pounds');

    const water = await new SimulatedBiller({ billerId: 'water', clock }).getAccount('2000301');
    assert.deepEqual(
      water?.bills.map((b) => [b.period, b.dueDate]),
      [
        ['9', '2026-10-28'],
        ['10', '2026-11-28'],
      ],
    );
    const telecom = await new SimulatedBiller({ billerId: 'telecom', clock }).getAccount('3000801');
    assert.equal(telecom?.governorate, 'IDL');
    assert.equal(telecom?.bills[1]?.period, '9-10');
  });

  void it('moves the current bill to next month after the 20th, deterministically', async () => {
    const late = fixedClock('2026-11-25T09:00:00Z');
    const biller = new SimulatedBiller({ billerId: 'electricity', clock: late });
    const a = await biller.getAccount('1000101');
    const b = await biller.getAccount('1000101');
    assert.deepEqual(a, b);
    assert.equal(a?.bills[1]?.dueDate, '2026-12-28');
    const jan = fixedClock('2027-01-05T09:00:00Z');
    const c = await new SimulatedBiller({ billerId: 'electricity', clock: jan }).getAccount(
      '1000101',
    );
    assert.deepEqual(
      c?.bills.map((x) => [x.period, x.dueDate]),
      [
        ['9-10', '2026-11-28'],
        ['11-12', '2027-01-28'],
      ],
    );
  });

  void it('answers null for unknown accounts', async () => {
    const biller = new SimulatedBiller({ billerId: 'electricity', clock });
    for (const account of ['1001501', '1000102', '2000101', '100010', '999', 'abc', '1009903']) {
      assert.equal(await biller.getAccount(account), null, account);
    }
  });

  void it('the 9901 account is down', async () => {
    const biller = new SimulatedBiller({ billerId: 'water', clock });
    await assert.rejects(biller.getAccount('2009901'), (err: unknown) => {
      assert.ok(err instanceof BillerUnavailableError);
      assert.match(err.message, /simulated outage/);
      return true;
    });
    await assert.rejects(
      biller.settle({
        billId: '2009901-202611',
        paymentId: 'P',
        amountMinor: qirsh(1),
        channel: 'wallet',
        providerRef: 'r',
        paidAt: new Date(),
      }),
      BillerUnavailableError,
    );
  });

  void it('the 9902 account has an unpaid bill from before 2026', async () => {
    const got = await new SimulatedBiller({ billerId: 'telecom', clock }).getAccount('3009902');
    const unpaid = got?.bills.filter((b) => b.status === 'unpaid');
    assert.deepEqual(
      unpaid?.map((b) => [b.period, b.dueDate]),
      [['11-12', '2025-12-28']],
    );
  });

  void it('settles: paid afterwards, same payment acknowledged, another payment conflicts', async () => {
    const biller = new SimulatedBiller({ billerId: 'electricity', clock });
    const bill = (await biller.getAccount('1000401'))!.bills.find((b) => b.status === 'unpaid')!;
    const req = {
      billId: bill.id,
      paymentId: 'P-1',
      amountMinor: bill.amountMinor,
      channel: 'wallet',
      providerRef: 'sim_1',
      paidAt: clock.now(),
    };
    assert.equal(await biller.settle(req), 'acknowledged');
    const after = (await biller.getAccount('1000401'))!.bills.find((b) => b.id === bill.id)!;
    assert.equal(after.status, 'paid');
    assert.equal(await biller.settle(req), 'acknowledged');
    assert.equal(await biller.settle({ ...req, paymentId: 'P-2' }), 'conflict');
    // The older bill was already paid (at a counter).
    const old = (await biller.getAccount('1000401'))!.bills[0]!;
    assert.equal(await biller.settle({ ...req, billId: old.id, paymentId: 'P-3' }), 'conflict');
    // Another instance (a restart) forgets.
    const fresh = new SimulatedBiller({ billerId: 'electricity', clock });
    assert.equal((await fresh.getAccount('1000401'))!.bills[1]!.status, 'unpaid');
  });

  void it('documents the demo accounts', () => {
    assert.equal(SIMULATED_ACCOUNTS.length, 3 * (GOVERNORATES.length + 2));
    assert.deepEqual(
      SIMULATED_ACCOUNTS.filter((r) => r.billerId === 'electricity')
        .map((r) => r.account)
        .slice(0, 3),
      ['1000101', '1000201', '1000301'],
    );
    const other = simulatedAccountsFor('gas');
    assert.equal(other[0]?.account, '9000101');
    assert.deepEqual(
      other.filter((r) => r.scenario !== 'normal').map((r) => [r.account, r.scenario]),
      [
        ['9009901', 'outage'],
        ['9009902', 'pre-2026'],
      ],
    );
  });

  void it('agrees with its own table', async () => {
    for (const row of SIMULATED_ACCOUNTS.filter((r) => r.scenario !== 'outage')) {
      const got = await new SimulatedBiller({ billerId: row.billerId, clock }).getAccount(
        row.account,
      );
      assert.equal(got?.holder, row.holder);
      assert.equal(got?.governorate, row.governorate);
      assert.equal(got?.bills.find((b) => b.status === 'unpaid')?.amountMinor, row.amountMinor);
    }
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

async function startReceiver(answers: number[] = []) {
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.statusCode = answers.shift() ?? 200;
      res.end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/payments/webhook/wallet`,
    received,
    async waitFor(n: number, timeoutMs = 3000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline)
          throw new Error(`only ${received.length} of ${n} webhooks arrived`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function payRequest(
  paymentId: string,
  callbackUrl: string,
  address = '+963944123456',
): InitiatePaymentRequest {
  return {
    paymentId,
    amountMinor: qirsh(1_875_000),
    currency: 'SYP',
    billerId: 'electricity',
    account: '1000101',
    billId: '1000101-202611',
    payer: { channel: 'sms', address },
    callbackUrl,
  };
}

void describe('SimulatedPaymentChannel', () => {
  const SECRET = 'sim-secret';

  void it('posts a signed webhook like a real provider', async () => {
    const rx = await startReceiver();
    const channel = new SimulatedPaymentChannel({
      channelId: 'wallet',
      webhookSecret: SECRET,
      confirmAfterMs: 50,
    });
    try {
      const started = await channel.initiate(payRequest('P-1', rx.url));
      assert.equal(started.status, 'pending');
      const again = await channel.initiate(payRequest('P-1', rx.url));
      assert.equal(again.providerRef, started.providerRef);

      await rx.waitFor(1);
      const [hook] = rx.received;
      assert.equal(
        verifyWebhookSignature(
          SECRET,
          hook!.raw,
          hook!.headers['x-tasdeed-signature'] as string,
          new Date(),
        ),
        'ok',
      );
      assert.equal(
        verifyWebhookSignature(
          'other',
          hook!.raw,
          hook!.headers['x-tasdeed-signature'] as string,
          new Date(),
        ),
        'mismatch',
      );
      assert.match(String(hook!.headers['content-type']), /^application\/json/);
      const body = JSON.parse(hook!.raw.toString('utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), [
        'amountMinor',
        'eventId',
        'occurredAt',
        'providerRef',
        'reference',
        'status',
      ]);
      assert.equal(body.providerRef, started.providerRef);
      assert.equal(body.reference, 'P-1');
      assert.equal(body.status, 'succeeded');
      assert.equal(body.amountMinor, 1_875_000);
      assert.match(String(body.eventId), /^[0-9a-f-]{36}$/);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(rx.received.length, 1, 'one webhook for one payment');
    } finally {
      channel.close();
      await rx.close();
    }
  });

  void it('fails a payer whose number ends in 0000, and retries an unanswered webhook', async () => {
    const rx = await startReceiver([500, 503]);
    const channel = new SimulatedPaymentChannel({
      channelId: 'wallet',
      webhookSecret: SECRET,
      confirmAfterMs: 20,
      retryDelayMs: 30,
    });
    try {
      await channel.initiate(payRequest('P-2', rx.url, '+963930000000'));
      await rx.waitFor(3);
      const bodies = rx.received.map(
        (r) => JSON.parse(r.raw.toString('utf8')) as { eventId: string; status: string },
      );
      assert.ok(bodies.every((b) => b.status === 'failed'));
      assert.equal(new Set(bodies.map((b) => b.eventId)).size, 1, 'a retry is the same event');
    } finally {
      channel.close();
      await rx.close();
    }
  });

  void it('gives up after the last attempt and logs it', async () => {
    const rx = await startReceiver([500, 500, 500, 500, 500]);
    const logs: string[] = [];
    const channel = new SimulatedPaymentChannel({
      channelId: 'wallet',
      webhookSecret: SECRET,
      confirmAfterMs: 10,
      retryDelayMs: 10,
      webhookAttempts: 3,
      log: (msg) => logs.push(msg),
    });
    try {
      await channel.initiate(payRequest('P-3', rx.url));
      await rx.waitFor(3);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(rx.received.length, 3);
      assert.equal(logs.length, 1);
      assert.match(logs[0]!, /gave up/);
    } finally {
      channel.close();
      await rx.close();
    }
  });

  void it('close() cancels pending webhooks', async () => {
    const rx = await startReceiver();
    const channel = new SimulatedPaymentChannel({
      channelId: 'wallet',
      webhookSecret: SECRET,
      confirmAfterMs: 50,
    });
    await channel.initiate(payRequest('P-4', rx.url));
    channel.close();
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(rx.received.length, 0);
    await rx.close();
  });

  void it('answers status from the providerRef alone, after a restart', async () => {
    const clock = fixedClock('2026-11-10T09:00:00Z');
    const first = new SimulatedPaymentChannel({
      channelId: 'wallet',
      webhookSecret: SECRET,
      confirmAfterMs: 1500,
      clock,
    });
    const ok = await first.initiate(payRequest('P-5', 'http://127.0.0.1:1/hook'));
    const ko = await first.initiate(payRequest('P-6', 'http://127.0.0.1:1/hook', '+963990000000'));
    first.close();

    const restarted = new SimulatedPaymentChannel({
      channelId: 'wallet',
      webhookSecret: SECRET,
      confirmAfterMs: 1500,
      clock,
    });
    assert.deepEqual(await restarted.status(ok.providerRef), {
      status: 'pending',
      amountMinor: 1_875_000,
    });
    clock.advance(1500);
    assert.deepEqual(await restarted.status(ok.providerRef), {
      status: 'succeeded',
      amountMinor: 1_875_000,
    });
    assert.deepEqual(await restarted.status(ko.providerRef), {
      status: 'failed',
      amountMinor: 1_875_000,
    });
    for (const garbled of ['', 'nope', 'sim_x_s_1_P', 'sim_1_q_1_P', 'sim_1_s_1_']) {
      await assert.rejects(restarted.status(garbled), PaymentChannelUnavailableError, garbled);
    }
    restarted.close();
  });
});

void describe('SimulatedPaymentChannel instructions', () => {
  const loaded = loadCatalogue(null);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const translator = new Translator(loaded.catalogue);
  const channel = (texts: boolean) =>
    new SimulatedPaymentChannel({
      channelId: 'wallet',
      webhookSecret: 'sim-secret',
      confirmAfterMs: 60_000,
      ...(texts ? { translator } : {}),
    });

  void it("speaks the payer's language, from the locale files, Arabic when none is named", async () => {
    const sim = channel(true);
    try {
      const url = 'http://127.0.0.1:1/hook';
      const ar = await sim.initiate({ ...payRequest('P-7', url), language: 'ar' });
      const en = await sim.initiate({ ...payRequest('P-8', url), language: 'en' });
      const unnamed = await sim.initiate(payRequest('P-9', url));
      assert.equal(ar.instructions, 'وافق على 18750 ل.س في محفظتك. المرجع P-7');
      assert.equal(
        en.instructions,
        'Approve the payment of 18,750 SYP in your wallet app. Ref P-8',
      );
      assert.equal(unnamed.instructions, 'وافق على 18750 ل.س في محفظتك. المرجع P-9');
      // Asked again in the other language (a retry), the same payment answers in that one.
      const again = await sim.initiate({ ...payRequest('P-7', url), language: 'en' });
      assert.equal(again.providerRef, ar.providerRef);
      assert.match(again.instructions ?? '', /^Approve /);
    } finally {
      sim.close();
    }
  });

  void it('gives no instructions without a translator, and setTranslator gives it one', async () => {
    const sim = channel(false);
    try {
      const url = 'http://127.0.0.1:1/hook';
      const bare = await sim.initiate({ ...payRequest('P-10', url), language: 'en' });
      assert.equal(bare.instructions, undefined);
      assert.ok(!('instructions' in bare));
      sim.setTranslator(translator);
      const given = await sim.initiate({ ...payRequest('P-11', url), language: 'en' });
      assert.match(given.instructions ?? '', /^Approve the payment of 18,750 SYP/);
    } finally {
      sim.close();
    }
  });
});

void describe('simulated payment instructions in a conversation', () => {
  let t: Running;
  void before(async () => {
    t = await startTasdeed();
  });
  void after(async () => {
    await t.close();
  });

  /** Pays a water bill from a sandbox Telegram chat; the replies to the wallet number. */
  async function pay(user: SandboxUser, ask: string, account: string): Promise<string[]> {
    const channels = await user.say(ask);
    const syriatel = channels.choices.find((c) => c.payload.endsWith(' syriatel-cash'));
    assert.ok(syriatel, `channel buttons: ${JSON.stringify(channels)}`);
    await user.press(syriatel.payload);
    const started = await user.say('0944123456');
    assert.equal(started.replies.length, 2, JSON.stringify(started.replies));
    assert.match(started.replies[0]!, new RegExp(account));
    return started.replies.map((r) => r.replace(/[\u2068\u2069]/g, ''));
  }

  void it('tells an Arabic chat to approve in Arabic, and an English chat in English', async () => {
    const arabic = new SandboxUser(t.url, 'telegram', 'tg-sim-ar');
    const [startedAr, instructionsAr] = await pay(arabic, 'ادفع مياه 2000401', '2000401');
    const refAr = /P-[0-9A-Z]{10}/.exec(startedAr!)![0];
    assert.match(instructionsAr!, new RegExp(`^وافق على \\d+ ل\\.س في محفظتك\\. المرجع ${refAr}$`));
    assert.doesNotMatch(instructionsAr!.replace(refAr, ''), /[A-Za-z]/, 'no English words');

    const english = new SandboxUser(t.url, 'telegram', 'tg-sim-en');
    const [startedEn, instructionsEn] = await pay(english, 'PAY water 2000501', '2000501');
    const refEn = /P-[0-9A-Z]{10}/.exec(startedEn!)![0];
    assert.match(
      instructionsEn!,
      new RegExp(`^Approve the payment of [\\d,]+ SYP in your wallet app\\. Ref ${refEn}$`),
    );
    // Stored with the payment as the channel gave it.
    assert.equal((await t.tasdeed.store.getPayment(refAr))?.instructions, instructionsAr);
    assert.equal((await t.tasdeed.store.getPayment(refEn))?.instructions, instructionsEn);
  });
});
