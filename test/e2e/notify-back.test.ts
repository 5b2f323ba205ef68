/**
 * "Tell me when it is back" (issue 5): a subscriber who finds the biller or the payment channel
 * down asks to be told (NOTIFY / أخبرني), and gets exactly one message when it answers again,
 * also when Tasdeed restarted in between (the watches are in the database). Against the local
 * biller and payment servers of docs/design.md §5 and a real database; the recovery probe is run
 * by hand (`scheduler.runNow`), as cron would every minute.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProbeResult } from '../../src/core/watches.js';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import { connectTo } from '../support/db.js';
import {
  httpCatalogue,
  removeTestDir,
  SandboxUser,
  startTasdeed,
  type Running,
} from '../support/harness.js';

const SECRET = 'whsec-notify-0123456789';
const BILLER_BACK = 'عادت الكهرباء للعمل. يمكنك المحاولة الآن.';
const CHANNEL_BACK = 'عادت محفظة الجوال للعمل. يمكنك المحاولة الآن.';

describe('tell me when it is back', () => {
  let biller: FakeBiller;
  let channel: FakePaymentChannel;
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-notify-'));
  let t: Running;
  let seq = 0;

  const start = () =>
    startTasdeed({
      dir,
      catalogue: httpCatalogue({
        billerUrl: biller.url,
        billerToken: 'biller-token',
        paymentUrl: channel.url,
        webhookSecret: SECRET,
        billerTimeoutMs: 500,
      }),
      // The sandbox stands in for subscribers; it is off by default in front of HTTP adapters.
      env: { TASDEED_SANDBOX: '1' },
    });
  const restart = async () => {
    await t.close();
    t = await start();
  };
  const probe = async () => {
    const scheduler = t.tasdeed.scheduler;
    assert.ok(scheduler, 'the scheduler runs');
    return (await scheduler.runNow('recovery-probe')) as ProbeResult;
  };
  const probesOfBiller = () => biller.requestsTo('GET', '/accounts/0/bills').length;
  const probesOfChannel = () =>
    channel.requests.filter((r) => r.method === 'GET' && r.path === '/payments/tasdeed-probe')
      .length;
  const user = (kind: 'sms' | 'telegram' = 'sms') =>
    new SandboxUser(
      t.url,
      kind,
      kind === 'sms' ? `+9639445${String(++seq).padStart(5, '0')}` : `tg-${++seq}`,
    );
  /** The biller's circuit breaker, as /metrics shows it. */
  const breaker = async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const state = /^tasdeed_biller_circuit_state\{biller="electricity"\} (\d)$/m.exec(text)?.[1];
    return ({ '0': 'closed', '1': 'half-open', '2': 'open' } as Record<string, string>)[
      state ?? ''
    ];
  };
  /** The same person, talking to the Tasdeed running now (a restart changes the port). */
  const here = (u: SandboxUser) => new SandboxUser(t.url, u.channel, u.from);
  /** The messages with this text the user was sent after their conversation. */
  const received = async (u: SandboxUser, text: string) =>
    (await here(u).inbox()).filter((m) => m.text === text);
  /**
   * The "back" messages written for the user, sent or not yet: all that will ever reach them
   * (the inbox shows only what has been sent).
   */
  const written = async (u: SandboxUser): Promise<number> => {
    const identity = await t.tasdeed.store.findIdentity(`sandbox-${u.channel}`, u.from);
    assert.ok(identity);
    // Read on a connection of the test's own, as an operator would.
    const db = connectTo(t.databaseUrl);
    try {
      return await db.client.outboxItem.count({
        where: { identityId: identity.id, payload: { contains: '"back-online"' } },
      });
    } finally {
      await db.close();
    }
  };

  function account(): string {
    const number = String(700_000 + ++seq);
    biller.addAccount({
      account: number,
      holder: 'سامر نبيل الخطيب',
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

  before(async () => {
    biller = await startFakeBiller({ token: 'biller-token' });
    channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    t = await start();
  });
  after(async () => {
    await t.close();
    await biller.close();
    await channel.close();
    await removeTestDir(dir);
  });

  it('a biller: nothing while it is down, one message when it answers, nothing after', async () => {
    biller.down = true;
    const sms = user('sms');
    const tg = user('telegram');
    const bill = await sms.say(`فاتورة كهرباء ${account()}`);
    assert.match(bill.replies[0] ?? '', /الكهرباء لا تستجيب الآن/);
    assert.deepEqual(
      bill.choices.map((c) => c.payload),
      ['NOTIFY electricity'],
    );
    assert.equal(
      (await sms.press('NOTIFY electricity')).replies[0],
      'سنخبرك عندما تعود الكهرباء للعمل.',
    );
    await tg.say('BILL electricity 1000101');
    assert.equal(
      (await tg.say('NOTIFY elec')).replies[0],
      'We will tell you when Electricity is back.',
    );
    await sms.say('أخبرني كهرباء'); // asking twice is one watch
    // A third failed inquiry opens the biller's circuit breaker: inquiries now fail at once.
    await sms.say(`فاتورة كهرباء ${account()}`);
    assert.equal(await breaker(), 'open');

    for (let run = 1; run <= 3; run++) {
      assert.equal(await written(sms), 0);
      assert.equal(await written(tg), 0);
      const asked = probesOfBiller();
      assert.deepEqual(await probe(), { probed: 1, announced: 0, errors: 0 });
      // The probe asked the biller itself, past the open breaker.
      assert.ok(probesOfBiller() > asked);
    }
    // No run is in flight after an awaited one: the next starts after the recovery.
    biller.down = false;
    assert.deepEqual(await probe(), { probed: 1, announced: 2, errors: 0 });
    await here(sms).waitForInbox(1);
    assert.equal((await received(sms, BILLER_BACK)).length, 1);
    assert.equal((await received(tg, 'Electricity is back. You can try again now.')).length, 1);

    assert.deepEqual(await probe(), { probed: 0, announced: 0, errors: 0 });
    assert.deepEqual(await probe(), { probed: 0, announced: 0, errors: 0 });
    assert.equal(await written(sms), 1);
    assert.equal(await written(tg), 1);
    assert.equal((await here(sms).inbox()).length, 1);
    // Back to normal at once: the probe's answer closed the breaker, and bills are answered.
    assert.equal(await breaker(), 'closed');
    assert.match((await sms.say(`فاتورة كهرباء ${account()}`)).replies[0] ?? '', /^الكهرباء \d+: /);
  });

  it('a biller, across a restart: the watch is remembered, told once', async () => {
    biller.down = true;
    const sms = user('sms');
    await sms.say(`فاتورة كهرباء ${account()}`);
    assert.match((await sms.say('أخبرني كهرباء')).replies[0] ?? '', /سنخبرك/);
    await restart();
    const asked = probesOfBiller();
    assert.deepEqual(await probe(), { probed: 1, announced: 0, errors: 0 });
    assert.ok(probesOfBiller() > asked);
    assert.equal(await written(sms), 0);
    assert.deepEqual(await probe(), { probed: 1, announced: 0, errors: 0 });
    biller.down = false;
    assert.deepEqual(await probe(), { probed: 1, announced: 1, errors: 0 });
    await here(sms).waitForInbox(1);

    await restart();
    assert.deepEqual(await probe(), { probed: 0, announced: 0, errors: 0 });
    assert.equal(await written(sms), 1);
    assert.equal((await received(sms, BILLER_BACK)).length, 1);
  });

  it('a payment channel: told once when it answers again (any answer below 500)', async () => {
    channel.down = true;
    const sms = user('sms');
    const pay = await sms.say(`ادفع كهرباء ${account()}`);
    assert.match(pay.replies[0] ?? '', /^محفظة الجوال لا تستجيب/);
    assert.equal(
      (await sms.say('أخبرني محفظة')).replies[0],
      'سنخبرك عندما تعود محفظة الجوال للعمل.',
    );

    let asked = probesOfChannel();
    assert.deepEqual(await probe(), { probed: 1, announced: 0, errors: 0 });
    assert.ok(probesOfChannel() > asked);
    await restart();
    assert.equal(await written(sms), 0);
    asked = probesOfChannel();
    assert.deepEqual(await probe(), { probed: 1, announced: 0, errors: 0 });
    assert.ok(probesOfChannel() > asked);
    // It answers again, with a 404 for the probe's made-up payment: an answer all the same.
    channel.down = false;
    assert.deepEqual(await probe(), { probed: 1, announced: 1, errors: 0 });
    await here(sms).waitForInbox(1);
    assert.equal((await received(sms, CHANNEL_BACK)).length, 1);
    assert.deepEqual(await probe(), { probed: 0, announced: 0, errors: 0 });
    assert.equal(await written(sms), 1);
    assert.equal((await received(sms, CHANNEL_BACK)).length, 1);
  });

  it('a channel that answers 5xx is still down', async () => {
    const sms = user('sms');
    channel.down = true;
    await sms.say(`ادفع كهرباء ${account()}`);
    await sms.say('NOTIFY wallet');
    assert.deepEqual(await probe(), { probed: 1, announced: 0, errors: 0 });
    channel.down = false;
    channel.failNext(1, 500);
    assert.deepEqual(await probe(), { probed: 1, announced: 0, errors: 0 });
    assert.equal(await written(sms), 0);
    assert.deepEqual(await probe(), { probed: 1, announced: 1, errors: 0 });
    await here(sms).waitForInbox(1);
    assert.equal((await received(sms, CHANNEL_BACK)).length, 1);
    assert.equal(await written(sms), 1);
  });
});
