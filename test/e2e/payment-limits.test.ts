/**
 * Payment limits against the HTTP biller and payment-channel protocols (found by an outside
 * review: `PAY <any account>` with any wallet number locked anyone's bill while the channel
 * said pending). A subscriber has at most TASDEED_MAX_OPEN_PAYMENTS open payments, and at most
 * TASDEED_PAYMENT_STARTS_PER_HOUR payments are started in an hour by one subscriber and with
 * one payer number; a refused PAY says which limit and when to try again, and never reaches
 * the channel. Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set, where parallel
 * PAYs from one subscriber must not race past the limit either.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import { httpCatalogue, SandboxUser, startTasdeed, type Running } from '../support/harness.js';

const SECRET = 'whsec-test-0123456789';

/** The time a refusal names (HH:MM in Damascus) is about an hour from now. */
function assertInAnHour(time: string | undefined, answer: string): void {
  assert.ok(time, answer);
  const local = (at: Date) =>
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Damascus',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(at);
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const expected = minutes(local(new Date(Date.now() + 3_600_000)));
  const off = Math.abs(((minutes(time) - expected + 720 + 1440) % 1440) - 720);
  assert.ok(off <= 2, `${time} is not about an hour from now: ${answer}`);
}
const REF = /P-[0-9A-Z]{10}/;

describe('payment limits through the HTTP payment channel', () => {
  let biller: FakeBiller;
  let channel: FakePaymentChannel;
  let t: Running;

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
  });
  after(async () => {
    await t.close();
    await biller.close();
    await channel.close();
  });
  afterEach(() => {
    channel.initialStatus = 'pending';
  });

  let accountSeq = 800000;
  /** A new account with one unpaid bill. */
  function account(): string {
    const number = String(++accountSeq);
    biller.addAccount({
      account: number,
      holder: 'فاطمة حسن العلي',
      governorate: 'DAM',
      bills: [
        {
          id: `B-${number}`,
          period: '9-10',
          amountMinor: 1_250_000,
          dueDate: '2026-11-28',
          status: 'unpaid',
        },
      ],
    });
    return number;
  }

  let userSeq = 0;
  const smsUser = () =>
    new SandboxUser(t.url, 'sms', `+96394466${String(++userSeq).padStart(4, '0')}`);

  /** POST /payments the channel got for an account. */
  const initiationsFor = (number: string) =>
    channel.initiations.filter((i) => (i.body as { account?: string } | null)?.account === number)
      .length;

  async function paymentsOf(user: SandboxUser): Promise<number> {
    const identity = await t.tasdeed.store.findIdentity(
      user.channel === 'sms' ? 'sandbox-sms' : 'sandbox-telegram',
      user.from,
    );
    assert.ok(identity);
    const all = await t.tasdeed.store.listPayments({});
    return all.filter((p) => p.subscriberId === identity.subscriberId).length;
  }

  for (const [lang, pay, open] of [
    [
      'ar',
      'ادفع كهرباء',
      /^دفعاتك الجارية بلغت الحد \(3\)\. ادفع بعد انتهاء إحداها أو قرار فريقنا\.$/,
    ],
    [
      'en',
      'PAY elec',
      /^Your payments in progress reached the limit \(3\)\. .* one held for review ends only when our staff decide it\.$/,
    ],
  ] as const) {
    it(`(${lang}) refuses a 4th open payment before the channel is asked; the same bill again is the same payment`, async () => {
      const user = smsUser();
      const accounts = [account(), account(), account(), account()];
      const refs: string[] = [];
      for (const number of accounts.slice(0, 3)) {
        const started = (await user.say(`${pay} ${number}`)).replies.join('\n');
        refs.push(REF.exec(started)?.[0] ?? assert.fail(started));
      }
      const again = (await user.say(`${pay} ${accounts[0]}`)).replies.join('\n');
      assert.equal(REF.exec(again)?.[0], refs[0], `same payment: ${again}`);

      const refused = (await user.say(`${pay} ${accounts[3]}`)).replies.join('\n');
      assert.match(refused, open);
      assert.doesNotMatch(refused, REF);
      assert.equal(initiationsFor(accounts[3]!), 0, 'no POST /payments for the 4th bill');
      assert.equal(await paymentsOf(user), 3);

      // One of them fails: a payment may start again.
      const failed = await channel.sendWebhook(`${t.url}/payments/webhook/wallet`, {
        providerRef: channel.paymentFor(refs[1]!)!.providerRef,
        status: 'failed',
      });
      assert.equal(failed.status, 200);
      assert.match((await user.say(`${pay} ${accounts[3]}`)).replies.join('\n'), REF);
      assert.equal(initiationsFor(accounts[3]!), 1);
    });
  }

  it('refuses the 6th payment start of a subscriber in an hour, saying when to try again', async () => {
    channel.initialStatus = 'failed';
    for (const [user, pay, limit] of [
      [
        smsUser(),
        'PAY elec',
        /^You have started the most payments allowed in an hour \(5\)\. Try again after (\d\d:\d\d)\.$/,
      ],
      [
        smsUser(),
        'ادفع كهرباء',
        /^دفعاتك بلغت الحد الأقصى في الساعة \(5\)\. حاول بعد (\d\d:\d\d)\.$/,
      ],
    ] as const) {
      // Every start fails at once, so none stays open: only the hourly count stops the 6th.
      for (let i = 0; i < 5; i++) {
        assert.match((await user.say(`${pay} ${account()}`)).replies.join('\n'), REF);
      }
      const sixth = account();
      const refused = (await user.say(`${pay} ${sixth}`)).replies.join('\n');
      assertInAnHour(limit.exec(refused)?.[1], refused);
      assert.equal(initiationsFor(sixth), 0, 'no POST /payments for the 6th');
      assert.equal(await paymentsOf(user), 5);
    }
  });

  it('refuses the 6th payment start with one payer number in an hour, whoever asks', async () => {
    const wallet = '0944123999';
    const pay = async (from: string) => {
      const user = new SandboxUser(t.url, 'telegram', from);
      const number = account();
      const asked = (await user.say(`PAY elec ${number}`)).replies.join('\n');
      assert.match(asked, /phone number registered with your wallet/);
      return { number, answer: (await user.say(wallet)).replies.join('\n') };
    };
    for (let i = 0; i < 5; i++) assert.match((await pay(`payer-limit-${i}`)).answer, REF);
    const sixth = await pay('payer-limit-5');
    const limit =
      /^Payments from this wallet number reached the limit of 5 an hour\. Try again after (\d\d:\d\d)\.$/;
    assertInAnHour(limit.exec(sixth.answer)?.[1], sixth.answer);
    assert.equal(initiationsFor(sixth.number), 0, 'no POST /payments for the 6th');
  });

  it('parallel PAYs by different subscribers with one wallet number never pass its hourly limit', async () => {
    for (let round = 0; round < 3; round++) {
      const wallet = `094412${String(round).padStart(4, '0')}`;
      // Eight Telegram users, each asked for the wallet number of a bill of their own …
      const users = Array.from(
        { length: 8 },
        (_, i) => new SandboxUser(t.url, 'telegram', `same-wallet-${round}-${i}`),
      );
      const accounts: string[] = [];
      for (const user of users) {
        const number = account();
        accounts.push(number);
        const asked = (await user.say(`PAY elec ${number}`)).replies.join('\n');
        assert.match(asked, /phone number registered with your wallet/);
      }
      // … answer with the same number at once (PostgreSQL: the number is locked by key).
      const answers = await Promise.all(users.map((user) => user.say(wallet)));
      const started = answers.filter((a) => REF.test(a.replies.join('\n'))).length;
      const refused = answers.filter((a) =>
        /^Payments from this wallet number reached the limit of 5 an hour/.test(
          a.replies.join('\n'),
        ),
      ).length;
      assert.equal(started, 5, `round ${round}: ${JSON.stringify(answers)}`);
      assert.equal(refused, 3, `round ${round}`);
      assert.equal(
        accounts.reduce((sum, number) => sum + initiationsFor(number), 0),
        5,
        `round ${round}: POST /payments`,
      );
    }
  });

  it('parallel PAYs for different bills by one subscriber never pass the open limit', async () => {
    for (let round = 0; round < 3; round++) {
      const user = smsUser();
      const accounts = Array.from({ length: 8 }, () => account());
      const answers = await Promise.all(accounts.map((number) => user.say(`PAY elec ${number}`)));
      const started = answers.filter((a) => REF.test(a.replies.join('\n'))).length;
      assert.equal(await paymentsOf(user), 3, `round ${round}`);
      assert.equal(started, 3, `round ${round}: ${JSON.stringify(answers)}`);
      assert.equal(
        accounts.reduce((sum, number) => sum + initiationsFor(number), 0),
        3,
        `round ${round}: POST /payments`,
      );
    }
  });
});
