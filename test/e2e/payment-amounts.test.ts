/**
 * Amounts beyond 32 bits, and amounts that are no amount, at every edge that takes one: the
 * signed payment webhook, the channel's answer when asked (GET), the biller's bills. Money is
 * stored in 64-bit columns on both databases; what is above 2^53 − 1 (where a JavaScript number
 * stops being exact), negative or not whole is refused where it comes in, never a crash.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import {
  httpCatalogue,
  SandboxUser,
  startTasdeed,
  waitFor,
  type Running,
} from '../support/harness.js';

const SECRET = 'whsec-amounts-0123456789';
const ADMIN = { Authorization: 'Bearer test-admin-token-0123456789' };
/** Three thousand million qirsh: past a 32-bit integer (2,147,483,647). */
const BIG = 3_000_000_000;
/** Amounts no edge may take: past 2^53 − 1, negative, not whole, not a number. */
const NOT_AMOUNTS: ReadonlyArray<[string, string]> = [
  ['2^53', '9007199254740992'],
  ['2^63', '9223372036854775808'],
  ['negative', '-1'],
  ['not whole', '1875000.5'],
  ['a string', '"1875000"'],
];

describe('amounts past 32 bits, and what is not an amount', () => {
  let biller: FakeBiller;
  let channel: FakePaymentChannel;
  let t: Running;
  let callbackUrl: string;

  before(async () => {
    biller = await startFakeBiller();
    channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    t = await startTasdeed({
      catalogue: httpCatalogue({
        billerUrl: biller.url,
        paymentUrl: channel.url,
        webhookSecret: SECRET,
      }),
      // The sandbox stands in for subscribers; it is off by default in front of HTTP adapters.
      env: { TASDEED_SANDBOX: '1' },
    });
    callbackUrl = `${t.url}/payments/webhook/wallet`;
  });
  after(async () => {
    await t.close();
    await biller.close();
    await channel.close();
  });

  let seq = 700_000;
  function addAccount(amountMinor: number): { account: string; billId: string } {
    const account = String(++seq);
    const billId = `B-${account}`;
    biller.addAccount({
      account,
      holder: 'هند سامر العلي',
      governorate: 'DAM',
      bills: [
        {
          id: billId,
          period: '9-10',
          amountMinor,
          currency: 'SYP',
          dueDate: '2026-11-28',
          status: 'unpaid',
        },
      ],
    });
    return { account, billId };
  }
  const newUser = () => new SandboxUser(t.url, 'sms', `+9639443${String(++seq).slice(-5)}`);

  async function startPayment(amountMinor: number) {
    const { account, billId } = addAccount(amountMinor);
    const r = await newUser().say(`PAY elec ${account}`);
    const ref = /P-[0-9A-Z]{10}/.exec(r.replies.join(' '))?.[0];
    assert.ok(ref, `no payment reference in ${JSON.stringify(r.replies)}`);
    const provider = await waitFor('initiation', () => channel.paymentFor(ref));
    return { ref, billId, provider };
  }

  it('holds for staff, answering 2xx, a signed success of 3,000,000,000 against a smaller bill', async () => {
    const { ref, provider } = await startPayment(1_875_000);
    const res = await channel.sendWebhook(callbackUrl, {
      providerRef: provider.providerRef,
      status: 'succeeded',
      amountMinor: BIG,
    });
    assert.equal(res.status, 200, res.body);
    assert.equal((res.json as { outcome: string }).outcome, 'held');
    const held = await t.tasdeed.store.getPayment(ref);
    assert.equal(held?.status, 'held');
    assert.equal(held?.heldReason, 'amount_mismatch');
    assert.equal(held?.confirmedAmountMinor, BIG);
    const events = await t.tasdeed.store.paymentEvents(ref);
    assert.deepEqual(
      events.map((e) => e.amountMinor),
      [BIG],
    );
    // Staff see it exactly, as a JSON number.
    const detail = (await (
      await fetch(`${t.url}/admin/payments/${ref}`, { headers: ADMIN })
    ).json()) as { payment: { amountMinor: unknown; confirmedAmountMinor: unknown } };
    assert.equal(detail.payment.amountMinor, 1_875_000);
    assert.equal(detail.payment.confirmedAmountMinor, BIG);
  });

  it('shows, pays and settles a bill of 3,000,000,000 qirsh at its amount', async () => {
    const { account, billId } = addAccount(BIG);
    const user = newUser();
    const bill = await user.say(`BILL elec ${account}`);
    assert.match(bill.replies[0]!, /30,000,000 SYP/);
    const r = await user.say(`PAY elec ${account}`);
    const ref = /P-[0-9A-Z]{10}/.exec(r.replies.join(' '))?.[0];
    assert.ok(ref, JSON.stringify(r.replies));
    const provider = await waitFor('initiation', () => channel.paymentFor(ref));
    assert.equal((provider.request as { amountMinor: unknown }).amountMinor, BIG);
    const res = await channel.sendWebhook(callbackUrl, {
      providerRef: provider.providerRef,
      status: 'succeeded',
      amountMinor: BIG,
    });
    assert.equal(res.status, 200, res.body);
    assert.equal((await t.tasdeed.store.getPayment(ref))?.status, 'succeeded');
    const settlement = await waitFor('settlement', () =>
      biller.settlements.find((s) => s.billId === billId),
    );
    assert.equal((settlement.body as { amountMinor: unknown }).amountMinor, BIG);
  });

  it('refuses with 400 a webhook whose amount is past 2^53 − 1, negative or not whole, and changes nothing', async () => {
    const { ref, provider } = await startPayment(1_875_000);
    for (const [what, amount] of NOT_AMOUNTS) {
      const rawBody =
        `{"eventId":"amount-${what}","providerRef":${JSON.stringify(provider.providerRef)},` +
        `"reference":"${ref}","status":"succeeded","amountMinor":${amount},` +
        `"occurredAt":"${new Date().toISOString()}"}`;
      const res = await channel.sendWebhook(
        callbackUrl,
        { providerRef: provider.providerRef, status: 'succeeded' },
        { rawBody, updateStatus: false },
      );
      assert.equal(res.status, 400, `${what}: ${res.status} ${res.body}`);
      assert.match(res.body, /amountMinor/, what);
    }
    assert.equal((await t.tasdeed.store.getPayment(ref))?.status, 'pending');
    assert.equal((await t.tasdeed.store.paymentEvents(ref)).length, 0);
  });

  it("takes a channel's answer with such an amount as the channel not answering: nothing decided", async () => {
    for (const [what, amount] of NOT_AMOUNTS) {
      const { ref, provider } = await startPayment(1_875_000);
      channel.setStatus(provider.providerRef, 'succeeded', JSON.parse(amount) as number);
      await t.tasdeed.store.updatePayment(ref, 'pending', {
        nextReconcileAt: new Date(Date.now() - 1000),
      });
      const asked = channel.requests.length;
      await t.tasdeed.payments.reconcileDue();
      assert.ok(
        channel.requests
          .slice(asked)
          .some((r) => r.method === 'GET' && r.path === `/payments/${provider.providerRef}`),
        `${what}: the channel was asked`,
      );
      const payment = await t.tasdeed.store.getPayment(ref);
      assert.equal(payment?.status, 'pending', what);
      assert.equal((await t.tasdeed.store.paymentEvents(ref)).length, 0, what);
    }
  });

  it("takes a biller's bill with such an amount as the biller not answering, never an error", async () => {
    for (const [what, amount] of NOT_AMOUNTS) {
      const { account } = addAccount(JSON.parse(amount) as number);
      const r = await newUser().say(`BILL elec ${account}`);
      assert.match(r.replies.join('\n'), /Electricity is not answering now/, what);
      assert.doesNotMatch(r.replies.join('\n'), /900719925474|1875000/, what);
    }
  });
});
