/**
 * Two events for one payment at the same moment, on the run's database (SQLite, or PostgreSQL
 * with TEST_DATABASE_URL): many signed "succeeded" webhooks with distinct event ids arrive
 * together for one pending payment. One of them moves it; the others are acknowledged as
 * ignored, or, when
 * they lost the race for the payment's row, answered 503 with Retry-After: 1 so that the
 * channel sends them again. Never 500, never 409 (which tells a channel not to retry).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { signWebhook } from '../../src/core/payments/webhook-signature.js';
import { TEST_DIALECT } from '../support/db.js';
import {
  captureLog,
  demoCatalogue,
  SandboxUser,
  startTasdeed,
  type Running,
} from '../support/harness.js';

const CHANNEL = 'syriatel-cash';
const PARALLEL = 24;

/** A pending payment of a sandbox subscriber's electricity bill, as the channel left it. */
async function pendingPayment(t: Running, account: string) {
  const store = t.tasdeed.store;
  const user = new SandboxUser(t.url, 'sms', `+96394${randomInt(1_000_000, 9_999_999)}`);
  await user.say(`فاتورة كهرباء ${account}`);
  const identity = await store.findIdentity('sandbox-sms', user.from);
  const bill = (await store.getAccountSnapshot('electricity', account))?.bills.find(
    (b) => b.status === 'unpaid',
  );
  if (!identity || !bill) throw new Error(`no unpaid bill cached for ${account}`);
  const id = `P-RACE${randomInt(100_000, 999_999)}`;
  await store.createPayment({
    id,
    subscriberId: identity.subscriberId,
    identityId: identity.id,
    billerId: bill.billerId,
    account,
    billId: bill.billId,
    amountMinor: bill.amountMinor,
    currency: bill.currency,
    channelId: CHANNEL,
    payerAddress: user.from,
    status: 'created',
    openKey: `${bill.billerId}:${bill.billId}`,
    deadlineAt: new Date(Date.now() + 3_600_000),
  });
  await store.updatePayment(id, 'created', { status: 'pending', providerRef: `ref-${id}` });
  return { id, providerRef: `ref-${id}`, amountMinor: bill.amountMinor };
}

describe('two events for one payment at the same moment', () => {
  let t: Running;
  const log = captureLog();
  before(async () => {
    // The simulated channel must not confirm by itself: the test's events are the only ones.
    t = await startTasdeed({ catalogue: demoCatalogue(3_600_000), logger: log.logger });
  });
  after(async () => {
    await t.close();
  });

  const send = (eventId: string, body: object) => {
    const raw = JSON.stringify({ eventId, ...body, occurredAt: new Date().toISOString() });
    const secret = t.tasdeed.webhookSecrets.get(CHANNEL)!;
    return fetch(`${t.url}/payments/webhook/${CHANNEL}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Tasdeed-Signature': signWebhook(secret, raw, Math.floor(Date.now() / 1000)),
      },
      body: raw,
    });
  };

  it('moves the payment once and answers the losers 503 with Retry-After: 1, never 500', async () => {
    const outcomes: string[] = [];
    let raced = 0;
    for (const [round, account] of ['1000101', '1000201', '1000301'].entries()) {
      const payment = await pendingPayment(t, account);
      const event = {
        providerRef: payment.providerRef,
        reference: payment.id,
        status: 'succeeded',
        amountMinor: payment.amountMinor,
      };
      const ids = Array.from({ length: PARALLEL }, (_, i) => `evt-${round}-${i}`);
      const answers = await Promise.all(ids.map((id) => send(id, event)));
      const statuses = answers.map((r) => r.status);
      raced += statuses.filter((s) => s === 503).length;
      for (const res of answers) {
        assert.ok(res.status === 200 || res.status === 503, `statuses ${statuses.join(',')}`);
        if (res.status === 503) assert.equal(res.headers.get('retry-after'), '1');
        const body = (await res.json()) as { outcome?: string };
        if (res.status === 200) outcomes.push(body.outcome ?? '?');
      }
      const applied = (await t.tasdeed.store.paymentEvents(payment.id)).filter(
        (e) => e.outcome === 'applied',
      );
      assert.equal(applied.length, 1, 'one event moved the payment');
      assert.equal((await t.tasdeed.store.getPayment(payment.id))?.status, 'succeeded');
      // A 503 is retried by the channel: then it is acknowledged and changes nothing.
      for (const [i, res] of answers.entries()) {
        if (res.status !== 503) continue;
        const again = await send(ids[i]!, event);
        assert.equal(again.status, 200);
      }
      assert.equal(
        (await t.tasdeed.store.paymentEvents(payment.id)).filter((e) => e.outcome === 'applied')
          .length,
        1,
        'the retried events changed nothing',
      );
    }
    assert.ok(outcomes.includes('applied'));
    // On PostgreSQL the events really run side by side (SQLite takes one transaction at a time).
    if (TEST_DIALECT === 'postgresql') assert.ok(raced > 0, 'no event lost the race');
    // A lost race is the channel's cue to retry, not an error for an operator (pino: 50 = error).
    const errors = log.lines.filter((line) => line.level >= 50);
    assert.deepEqual(errors, [], 'nothing logged at error level');
  });
});
