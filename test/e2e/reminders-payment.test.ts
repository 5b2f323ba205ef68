/**
 * No reminder for a bill paid, or being paid, through Tasdeed: sandbox subscribers pay through
 * the local payment-channel stand-in (its signed webhook confirms), the settlement reaches the
 * local biller stand-in; a Telegram subscriber follows each bill too and is the one reminded
 * (with Telegram configured, reminders leave sandbox identities out). Quiet hours 09-12 hold the 10:00 reminders until 12:00, so a payment
 * can also happen while a reminder waits.
 *
 * Dates: 2036-11-25, Asia/Damascus (UTC+3): 10:00 there is 07:00 UTC; offset -3 → due 11-28.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SandboxUser, waitFor } from '../support/harness.js';
import {
  billerAccount,
  followerOf,
  reminderRig,
  remindersTo,
  startOutside,
  type Outside,
  type ReminderRig,
} from './reminders-rig.js';

describe('a bill paid through Tasdeed', () => {
  let outside: Outside;
  let rig: ReminderRig;
  before(async () => {
    outside = await startOutside();
    rig = reminderRig(outside, '2036-11-25T05:00:00Z', {
      TASDEED_SANDBOX: '1',
      TASDEED_QUIET_HOURS: '9-12',
    });
    await rig.start();
  });
  after(async () => {
    await rig.close();
    await outside.close();
  });

  let phone = 0;
  async function sandboxFollower(account: string): Promise<SandboxUser> {
    phone += 1;
    const u = new SandboxUser(rig.t.url, 'sms', `+96394430${String(phone).padStart(4, '0')}`);
    assert.match((await u.say(`اشترك كهرباء ${account}`)).replies[0]!, /تمت متابعة/);
    return u;
  }

  /** Starts a payment of the account's bill; returns what confirms it. */
  async function startPayment(user: SandboxUser, account: string) {
    const r = await user.say(`ادفع كهرباء ${account}`);
    const ref = /P-[0-9A-Z]{10}/.exec(r.replies[0] ?? '')?.[0];
    assert.ok(ref, `no payment reference in ${JSON.stringify(r.replies)}`);
    const provider = await waitFor('initiation', () => outside.channel.paymentFor(ref));
    return {
      async confirm() {
        // Signed at the app's (fake) time, as a provider whose clock agrees with ours would.
        const res = await outside.channel.sendWebhook(
          `${rig.t.url}/payments/webhook/wallet`,
          { providerRef: provider.providerRef, status: 'succeeded' },
          { timestamp: Math.floor(rig.clock.now().getTime() / 1000) },
        );
        assert.equal(res.status, 200);
        await user.waitForInbox(1); // the receipt
        await waitFor('settled', async () => {
          const p = await rig.t.tasdeed.store.getPayment(ref);
          return p?.settlementStatus === 'acknowledged';
        });
      },
    };
  }

  it('is not planned, and a reminder already waiting for it is not sent', async () => {
    const names = ['paidFirst', 'pendingFirst', 'paidLater', 'pendingLater', 'unpaid'] as const;
    const accounts = Object.fromEntries(
      names.map((n) => [n, billerAccount(outside, '2036-11-28')]),
    ) as Record<(typeof names)[number], { account: string; billId: string }>;
    const users = {} as Record<(typeof names)[number], SandboxUser>;
    for (const n of names) users[n] = await sandboxFollower(accounts[n].account);
    // The subscribers reminded, on Telegram.
    const followers = {} as Record<(typeof names)[number], Awaited<ReturnType<typeof followerOf>>>;
    for (const n of names) followers[n] = await followerOf(rig, accounts[n].account);

    await (await startPayment(users.paidFirst, accounts.paidFirst.account)).confirm();
    await startPayment(users.pendingFirst, accounts.pendingFirst.account); // no answer yet

    rig.at('2036-11-25T07:00:00Z'); // 10:00, quiet until 12:00
    const tick = await rig.t.tasdeed.reminders.tick();
    assert.equal(tick.status === 'done' && tick.planned, 3);
    assert.deepEqual(
      (await rig.rows()).map((r) => r.account).sort(),
      [accounts.paidLater.account, accounts.pendingLater.account, accounts.unpaid.account].sort(),
    );

    rig.at('2036-11-25T07:30:00Z'); // 10:30: paid, and being paid, while their reminders wait
    await (await startPayment(users.paidLater, accounts.paidLater.account)).confirm();
    await startPayment(users.pendingLater, accounts.pendingLater.account);

    rig.at('2036-11-25T09:00:00Z'); // 12:00
    const rows = await rig.settle();
    const outcome = (n: (typeof names)[number]) => {
      const row = rows.find((r) => r.account === accounts[n].account);
      return row ? [row.status, row.lastError] : 'not planned';
    };
    assert.equal(outcome('paidFirst'), 'not planned');
    assert.equal(outcome('pendingFirst'), 'not planned');
    assert.deepEqual(outcome('paidLater'), ['skipped', 'bill paid']);
    assert.deepEqual(outcome('pendingLater'), ['skipped', 'bill paid or being paid through us']);
    assert.deepEqual(outcome('unpaid'), ['sent', null]);
    assert.deepEqual(remindersTo(outside, followers.paidFirst), []);
    assert.equal(remindersTo(outside, followers.unpaid).length, 1);
    // The payments completed: each payer got the receipt.
    for (const n of ['paidFirst', 'paidLater'] as const) {
      const texts = (await users[n].inbox()).map((m) => m.text);
      assert.equal(texts.length, 1, texts.join('\n'));
      assert.match(texts[0]!, /^إيصال/);
    }
  });
});
