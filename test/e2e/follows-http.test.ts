/**
 * Followed accounts against the HTTP biller protocol (found by an outside review: 42 follows,
 * then one BILL made 42 lookups at once, enough to open a biller's circuit breaker for
 * everyone): BILL over every followed account asks the biller a few accounts at a time, and
 * the ADD past TASDEED_MAX_FOLLOWS is refused before the biller is asked at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import { httpCatalogue, SandboxUser, startTasdeed, type Running } from '../support/harness.js';

const ACCOUNTS = Array.from({ length: 16 }, (_, i) => String(700101 + i));

describe('followed accounts through the HTTP biller', () => {
  let biller: FakeBiller;
  let channel: FakePaymentChannel;
  let t: Running;

  before(async () => {
    biller = await startFakeBiller();
    for (const account of ACCOUNTS) {
      biller.addAccount({
        account,
        holder: 'محمد خالد الأحمد',
        governorate: 'DAM',
        bills: [
          {
            id: `B-${account}`,
            period: '9-10',
            amountMinor: 1_875_000,
            dueDate: '2026-11-28',
            status: 'unpaid',
          },
        ],
      });
    }
    channel = await startFakePaymentChannel({ webhookSecret: 'whsec-test-0123456789' });
    t = await startTasdeed({
      catalogue: httpCatalogue({
        billerUrl: biller.url,
        paymentUrl: channel.url,
        webhookSecret: 'whsec-test-0123456789',
      }),
      // The sandbox stands in for subscribers; it is off by default in front of HTTP adapters.
      env: { TASDEED_SANDBOX: '1' },
    });
  });
  after(async () => {
    await t.close();
    await biller.close();
    await channel.close();
  });

  const lookups = () => biller.requestsTo('GET', '/accounts/').length;

  it('BILL over 10 accounts asks the biller at most 3 at a time, and asks for each', async () => {
    const user = new SandboxUser(t.url, 'telegram', 'bounded-lookups');
    for (const account of ACCOUNTS.slice(0, 10)) await user.say(`ADD elec ${account}`);
    biller.delayMs = 100;
    biller.maxInFlight = 0;
    const before = lookups();
    try {
      const answer = await user.say('BILL');
      assert.equal(answer.replies.join('\n').match(/\b7001\d\d\b/g)?.length, 10, 'one line each');
    } finally {
      biller.delayMs = 0;
    }
    assert.equal(lookups() - before, 10, 'every followed account asked once');
    assert.ok(biller.maxInFlight <= 3, `${biller.maxInFlight} lookups at once`);
    assert.ok(biller.maxInFlight >= 2, 'lookups still overlap');
  });

  it('parallel ADDs never pass TASDEED_MAX_FOLLOWS (PostgreSQL: the subscriber row is locked)', async () => {
    for (let round = 0; round < 3; round++) {
      const from = `parallel-adds-${round}`;
      const user = new SandboxUser(t.url, 'telegram', from);
      for (const account of ACCOUNTS.slice(0, 8)) await user.say(`ADD elec ${account}`);
      // Eight more at once, for the two places left: each passes the early check (8 < 10).
      const answers = await Promise.all(
        ACCOUNTS.slice(8, 16).map((account) => user.say(`ADD elec ${account}`)),
      );
      const full = answers.filter((a) => /most accounts allowed/.test(a.replies.join('\n')));
      const identity = await t.tasdeed.store.findIdentity('sandbox-telegram', from);
      const follows = await t.tasdeed.store.followsOf(identity!.subscriberId);
      assert.equal(follows.length, 10, `round ${round}: ${follows.length} followed`);
      assert.equal(full.length, 6, `round ${round}: the other six refused`);
    }
  });

  it('refuses the 11th ADD without asking the biller, in English and Arabic', async () => {
    for (const [from, add, full] of [
      [
        'cap-en',
        'ADD elec',
        /^You follow the most accounts allowed \(10\)\. Send ACCOUNTS to see which to remove/,
      ],
      [
        'cap-ar',
        'اشترك كهرباء',
        /^بلغتَ الحد الأقصى للحسابات المتابَعة \(10\)\. أرسل حساباتي لترى ما تحذفه/,
      ],
    ] as const) {
      const user = new SandboxUser(t.url, 'telegram', from);
      for (const account of ACCOUNTS.slice(0, 10)) await user.say(`${add} ${account}`);
      const before = lookups();
      const answer = await user.say(`${add} ${ACCOUNTS[10]}`);
      assert.match(answer.replies.join('\n'), full);
      assert.equal(lookups(), before, 'the biller was not asked');
      const identity = await t.tasdeed.store.findIdentity('sandbox-telegram', from);
      const follows = await t.tasdeed.store.followsOf(identity!.subscriberId);
      assert.deepEqual(
        follows.map((f) => f.account),
        ACCOUNTS.slice(0, 10),
      );
    }
  });
});
