/**
 * Payments and inquiries against local servers that speak the biller and payment-channel
 * protocols of docs/design.md §5, on a real SQLite file.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
  type SendWebhookOptions,
} from '../support/fake-payment.server.js';
import {
  httpCatalogue,
  SandboxUser,
  startTasdeed,
  waitFor,
  type Running,
} from '../support/harness.js';

const SECRET = 'whsec-test-0123456789';
const ADMIN = {
  Authorization: 'Bearer test-admin-token-0123456789',
  'Content-Type': 'application/json',
};

let accountSeq = 500000;
function nextAccount(): string {
  accountSeq += 1;
  return String(accountSeq);
}

describe('payments through the HTTP biller and payment channel', () => {
  let biller: FakeBiller;
  let channel: FakePaymentChannel;
  let t: Running;
  let callbackUrl: string;

  before(async () => {
    biller = await startFakeBiller({ token: 'biller-token' });
    channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    t = await startTasdeed({
      catalogue: httpCatalogue({
        billerUrl: biller.url,
        billerToken: 'biller-token',
        paymentUrl: channel.url,
        webhookSecret: SECRET,
        billerTimeoutMs: 300,
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
  afterEach(() => {
    biller.delayMs = 0;
    biller.down = false;
  });

  function addAccount(governorate = 'DAM', amountMinor = 1_875_000) {
    const account = nextAccount();
    const billId = `B-${account}`;
    biller.addAccount({
      account,
      holder: 'محمد خالد الأحمد',
      governorate,
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

  async function startPayment(user: SandboxUser, account: string) {
    const r = await user.say(`ادفع كهرباء ${account}`);
    const ref = /P-[0-9A-Z]{10}/.exec(r.replies[0] ?? '')?.[0];
    assert.ok(ref, `no payment reference in ${JSON.stringify(r.replies)}`);
    const provider = await waitFor('initiation', () => channel.paymentFor(ref));
    return { ref, provider, reply: r.replies[0]! };
  }

  let userSeq = 0;
  const newUser = () =>
    new SandboxUser(t.url, 'sms', `+96394420${String(++userSeq).padStart(4, '0')}`);

  it('sends the initiation exactly as the contract says', async () => {
    const { account, billId } = addAccount();
    const { ref, provider } = await startPayment(newUser(), account);
    assert.deepEqual(provider.request, {
      reference: ref,
      amountMinor: 1_875_000,
      currency: 'SYP',
      biller: 'electricity',
      account,
      billId,
      payer: { channel: 'wallet', address: provider.payer.address },
      callbackUrl,
    });
    assert.equal(provider.idempotencyKey, ref);
    assert.match(provider.payer.address, /^\+9639442\d{5}$/);
  });

  it('applies a good webhook once: one settlement with the payment id as key, one receipt', async () => {
    const user = newUser();
    const { account, billId } = addAccount();
    const { ref, provider } = await startPayment(user, account);
    const res = await channel.sendWebhook(callbackUrl, {
      providerRef: provider.providerRef,
      status: 'succeeded',
    });
    assert.equal(res.status, 200);
    await waitFor('settlement', () => biller.settlements.find((s) => s.billId === billId));
    await user.waitForInbox(1);
    // The same event again (a provider retry), byte for byte.
    const replay = await fetch(callbackUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Tasdeed-Signature': res.sentSignature! },
      body: res.sentBody,
    });
    assert.equal(replay.status, 200);
    assert.equal(((await replay.json()) as { outcome: string }).outcome, 'duplicate');
    await t.tasdeed.dispatcher.drain();
    const settlements = biller.settlements.filter((s) => s.billId === billId);
    assert.equal(settlements.length, 1);
    assert.equal(settlements[0]!.idempotencyKey, ref);
    assert.deepEqual(Object.keys(settlements[0]!.body as object).sort(), [
      'amountMinor',
      'channel',
      'paidAt',
      'paymentId',
      'providerRef',
    ]);
    assert.equal((await user.inbox()).length, 1);
    const payment = await t.tasdeed.store.getPayment(ref);
    assert.equal(payment?.status, 'succeeded');
    assert.equal(payment?.settlementStatus, 'acknowledged');
    const audit = await t.tasdeed.store.auditTrail('payment', ref);
    assert.deepEqual(audit.map((a) => `${a.fromState ?? ''}>${a.toState ?? ''}`).slice(0, 3), [
      '>created',
      'created>pending',
      'pending>succeeded',
    ]);
  });

  it('refuses forged, tampered, unsigned and stale webhooks with 401 and changes nothing', async () => {
    const { account } = addAccount();
    const { ref, provider } = await startPayment(newUser(), account);
    const event = { providerRef: provider.providerRef, status: 'succeeded' as const };
    const attempts = [
      await channel.sendWebhook(callbackUrl, event, {
        secret: 'wrong-secret',
        updateStatus: false,
      }),
      await channel.sendWebhook(callbackUrl, event, { tamper: true, updateStatus: false }),
      await channel.sendWebhook(callbackUrl, event, {
        tamper: (b) => b.replace('1875000', '1'),
        updateStatus: false,
      }),
      await channel.sendWebhook(callbackUrl, event, { signature: null, updateStatus: false }),
      await channel.sendWebhook(callbackUrl, event, {
        timestamp: Math.floor(Date.now() / 1000) - 301,
        updateStatus: false,
      }),
      await channel.sendWebhook(callbackUrl, event, {
        timestamp: Math.floor(Date.now() / 1000) + 400,
        updateStatus: false,
      }),
      await channel.sendWebhook(callbackUrl, event, {
        signature: 't=abc,v1=zz',
        updateStatus: false,
      }),
    ];
    assert.deepEqual(
      attempts.map((a) => a.status),
      [401, 401, 401, 401, 401, 401, 401],
    );
    assert.equal((await t.tasdeed.store.getPayment(ref))?.status, 'pending');
    assert.equal((await t.tasdeed.store.paymentEvents(ref)).length, 0);
  });

  it('answers an unknown channel exactly as a bad signature (no channel enumeration)', async () => {
    const event = { providerRef: 'x', status: 'succeeded' as const, eventId: 'e-enum' };
    const stale = Math.floor(Date.now() / 1000) - 400;
    // Signed with the channel's secret, with a wrong one, unsigned, stale, malformed.
    const variants: SendWebhookOptions[] = [
      {},
      { secret: 'wrong-secret' },
      { signature: null },
      { timestamp: stale },
      { signature: 't=abc,v1=zz' },
    ];
    for (const opts of variants) {
      const unknown = await channel.sendWebhook(`${t.url}/payments/webhook/nope`, event, opts);
      // The same request to the real channel, with a secret that is not its own.
      const known = await channel.sendWebhook(callbackUrl, event, {
        secret: 'wrong-secret',
        ...opts,
      });
      assert.equal(unknown.status, 401, JSON.stringify(opts));
      assert.deepEqual([unknown.status, unknown.body], [known.status, known.body]);
    }
  });

  it('answers 400 for a malformed body and 404 for an unknown payment', async () => {
    const notJson = await channel.sendWebhook(
      callbackUrl,
      { providerRef: 'x', status: 'succeeded' },
      { rawBody: 'not json' },
    );
    assert.equal(notJson.status, 400);
    const badShape = await channel.sendWebhook(
      callbackUrl,
      { providerRef: 'x', status: 'succeeded' },
      { rawBody: '{"eventId":1}' },
    );
    assert.equal(badShape.status, 400);
    const unknownPayment = await channel.sendWebhook(callbackUrl, {
      providerRef: 'x',
      status: 'succeeded',
      reference: 'P-NOPE000000',
      amountMinor: 100,
    });
    assert.equal(unknownPayment.status, 404);
  });

  it('refuses a success that does not say its amount (400) and leaves the payment pending', async () => {
    const { account } = addAccount();
    const { ref, provider } = await startPayment(newUser(), account);
    const event = { providerRef: provider.providerRef, status: 'succeeded' as const };
    const withNull = await channel.sendWebhook(
      callbackUrl,
      { ...event, amountMinor: null },
      { updateStatus: false },
    );
    const without = await channel.sendWebhook(callbackUrl, event, {
      updateStatus: false,
      rawBody: JSON.stringify({ eventId: 'no-amount-1', ...event, reference: ref }),
    });
    for (const res of [withNull, without]) {
      assert.equal(res.status, 400, res.body);
      assert.match(res.body, /amountMinor: required when status is/);
    }
    assert.equal((await t.tasdeed.store.getPayment(ref))?.status, 'pending');
    assert.equal((await t.tasdeed.store.paymentEvents(ref)).length, 0);
    // A pending or failed event needs no amount.
    const failed = await channel.sendWebhook(callbackUrl, {
      providerRef: provider.providerRef,
      status: 'failed',
      amountMinor: null,
    });
    assert.equal(failed.status, 200);
    assert.equal((await t.tasdeed.store.getPayment(ref))?.status, 'failed');
  });

  it("settles with the channel's own time of the success as paidAt", async () => {
    const { account, billId } = addAccount();
    const { provider } = await startPayment(newUser(), account);
    const occurredAt = new Date(Date.now() - 90_000).toISOString();
    const res = await channel.sendWebhook(callbackUrl, {
      providerRef: provider.providerRef,
      status: 'succeeded',
      occurredAt,
    });
    assert.equal(res.status, 200);
    const settlement = await waitFor('settlement', () =>
      biller.settlements.find((s) => s.billId === billId),
    );
    assert.equal((settlement.body as { paidAt: string }).paidAt, occurredAt);
  });

  it('turns two "pay" requests for one bill into one payment and one provider key', async () => {
    const { account } = addAccount();
    const user = newUser();
    const [a, b] = await Promise.all([
      user.say(`ادفع كهرباء ${account}`),
      user.say(`PAY elec ${account}`),
    ]);
    const refs = [a, b].map((r) => /P-[0-9A-Z]{10}/.exec(r.replies.join(' '))?.[0]);
    assert.ok(refs[0] && refs[0] === refs[1], JSON.stringify([a, b]));
    const payments = (await t.tasdeed.store.listPayments({})).filter((p) => p.account === account);
    assert.equal(payments.length, 1);
    await waitFor('initiation', () => channel.paymentFor(refs[0]!));
    assert.equal(channel.initiations.filter((i) => i.idempotencyKey === refs[0]).length, 1);
    // Another follower of the same account is told a payment is in progress.
    const other = await newUser().say(`ادفع كهرباء ${account}`);
    assert.match(other.replies[0]!, /شخص آخر يدفع/);
    assert.deepEqual(
      other.choices.map((c) => c.payload),
      [`WATCHPAY ${refs[0]}`],
    );
  });

  it('moves states forward only: a late "pending" after "succeeded" changes nothing', async () => {
    const { account, billId } = addAccount();
    const { ref, provider } = await startPayment(newUser(), account);
    assert.equal(
      (
        await channel.sendWebhook(callbackUrl, {
          providerRef: provider.providerRef,
          status: 'succeeded',
        })
      ).status,
      200,
    );
    const late = await channel.sendWebhook(callbackUrl, {
      providerRef: provider.providerRef,
      status: 'pending',
    });
    assert.equal(late.status, 200);
    assert.equal((late.json as { outcome: string }).outcome, 'ignored');
    const failed = await channel.sendWebhook(callbackUrl, {
      providerRef: provider.providerRef,
      status: 'failed',
    });
    assert.equal((failed.json as { outcome: string }).outcome, 'ignored');
    assert.equal((await t.tasdeed.store.getPayment(ref))?.status, 'succeeded');
    await waitFor('settlement', () => biller.settlements.find((s) => s.billId === billId));
  });

  it('frees the bill after a failure, so a new payment can start', async () => {
    const user = newUser();
    const { account } = addAccount();
    const first = await startPayment(user, account);
    await channel.sendWebhook(callbackUrl, {
      providerRef: first.provider.providerRef,
      status: 'failed',
    });
    assert.equal((await t.tasdeed.store.getPayment(first.ref))?.status, 'failed');
    const failedNotice = await user.waitForInbox(1);
    assert.match(failedNotice[0]!.text, new RegExp(`لم تتم الدفعة ${first.ref}`));
    const second = await startPayment(user, account);
    assert.notEqual(second.ref, first.ref);
  });

  it('holds an amount mismatch for staff, then settles once staff resolve it', async () => {
    const user = newUser();
    const { account, billId } = addAccount();
    const { ref, provider } = await startPayment(user, account);
    const res = await channel.sendWebhook(callbackUrl, {
      providerRef: provider.providerRef,
      status: 'succeeded',
      amountMinor: 1_000_000,
    });
    assert.equal(res.status, 200);
    assert.equal((res.json as { outcome: string }).outcome, 'held');
    const held = await t.tasdeed.store.getPayment(ref);
    assert.equal(held?.status, 'held');
    assert.equal(held?.heldReason, 'amount_mismatch');
    await t.tasdeed.dispatcher.drain();
    assert.equal(
      biller.settlements.filter((s) => s.billId === billId).length,
      0,
      'not settled while held',
    );
    // The bill stays blocked while held.
    const again = await user.say(`ادفع كهرباء ${account}`);
    assert.equal(again.replies[0], `الدفعة ${ref} تحتاج مراجعة من فريقنا، وسنتواصل معك.`);

    const noAuth = await fetch(`${t.url}/admin/payments/${ref}/resolve`, {
      method: 'POST',
      body: '{}',
    });
    assert.equal(noAuth.status, 401);
    const bad = await fetch(`${t.url}/admin/payments/${ref}/resolve`, {
      method: 'POST',
      headers: ADMIN,
      body: '{"status":"maybe"}',
    });
    assert.equal(bad.status, 400);
    const resolved = await fetch(`${t.url}/admin/payments/${ref}/resolve`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({
        status: 'succeeded',
        note: 'customer paid the difference at the counter',
      }),
    });
    assert.equal(resolved.status, 200);
    await waitFor('settlement', () => biller.settlements.find((s) => s.billId === billId));
    const twice = await fetch(`${t.url}/admin/payments/${ref}/resolve`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ status: 'failed', note: 'again' }),
    });
    assert.equal(twice.status, 409);
    const detail = (await (
      await fetch(`${t.url}/admin/payments/${ref}`, { headers: ADMIN })
    ).json()) as {
      audit: Array<{ action: string; toState: string | null; actor: string }>;
    };
    assert.ok(
      detail.audit.some(
        (a) => a.action === 'resolve' && a.toState === 'succeeded' && a.actor === 'staff:api',
      ),
    );
  });

  it('holds a payment whose settlement the biller refuses with 409 (paid another way)', async () => {
    const { account, billId } = addAccount();
    biller.conflictBills.add(billId);
    const { ref, provider } = await startPayment(newUser(), account);
    await channel.sendWebhook(callbackUrl, {
      providerRef: provider.providerRef,
      status: 'succeeded',
    });
    const held = await waitFor('held', async () => {
      const p = await t.tasdeed.store.getPayment(ref);
      return p?.status === 'held' ? p : null;
    });
    assert.equal(held.heldReason, 'biller_conflict');
    assert.equal(held.settlementStatus, 'conflict');
    await t.tasdeed.dispatcher.drain();
    assert.equal(
      biller.settlements.filter((s) => s.billId === billId).length,
      1,
      'no retry after 409',
    );
  });

  it('serves the cached bill with its age when the biller times out', async () => {
    const user = newUser();
    const { account } = addAccount();
    const fresh = await user.say(`فاتورة كهرباء ${account}`);
    assert.match(fresh.replies[0]!, new RegExp(`^الكهرباء ${account}: 18750 ل\\.س`));
    biller.delayMs = 1_000; // beyond the 300 ms timeout of this catalogue
    const cached = await user.say(`فاتورة كهرباء ${account}`);
    assert.match(cached.replies[0]!, new RegExp(`^الكهرباء ${account}: 18750 ل\\.س`));
    assert.match(cached.replies[1]!, /آخر فاتورة معروفة منذ دقيقة/);
    // No payment starts on a cached bill.
    const pay = await user.say(`ادفع كهرباء ${account}`);
    assert.match(pay.replies[0]!, /لا يمكن بدء الدفع الآن/);
  });

  it('answers an unknown account and an uncovered governorate clearly', async () => {
    const user = newUser();
    assert.equal(
      (await user.say('فاتورة كهرباء 999999999')).replies[0],
      'لا يوجد حساب 999999999 لدى الكهرباء. تحقق من الرقم.',
    );
    const { account } = addAccount('RAQ');
    assert.match((await user.say(`ادفع كهرباء ${account}`)).replies[0]!, /غير متاح في الرقة/);
    assert.equal(
      channel.initiations.filter((i) => (i.body as { account?: string }).account === account)
        .length,
      0,
    );
  });

  it('asks the channel about a payment that never called back, and applies the answer', async () => {
    const user = newUser();
    const { account, billId } = addAccount();
    const { ref, provider } = await startPayment(user, account);
    channel.setStatus(provider.providerRef, 'succeeded', 1_875_000);
    // Not due yet: the deadline is 15 minutes away.
    assert.equal(await t.tasdeed.payments.reconcileDue(), 0);
    const payment = await t.tasdeed.store.getPayment(ref);
    await t.tasdeed.store.updatePayment(ref, 'pending', {
      nextReconcileAt: new Date(Date.now() - 1000),
    });
    assert.ok(payment);
    assert.equal(await t.tasdeed.payments.reconcileDue(), 1);
    assert.equal((await t.tasdeed.store.getPayment(ref))?.status, 'succeeded');
    await waitFor('settlement', () => biller.settlements.find((s) => s.billId === billId));
    await user.waitForInbox(1);
  });

  it('holds for staff a success the channel reports without its amount when asked', async () => {
    const { account, billId } = addAccount();
    const { ref, provider } = await startPayment(newUser(), account);
    channel.setStatus(provider.providerRef, 'succeeded', null);
    await t.tasdeed.store.updatePayment(ref, 'pending', {
      nextReconcileAt: new Date(Date.now() - 1000),
    });
    assert.equal(await t.tasdeed.payments.reconcileDue(), 1);
    const payment = await t.tasdeed.store.getPayment(ref);
    assert.equal(payment?.status, 'held');
    assert.equal(payment?.heldReason, 'amount_mismatch');
    await t.tasdeed.dispatcher.drain();
    assert.equal(biller.settlements.filter((s) => s.billId === billId).length, 0);
  });
});
