/**
 * Text the partners send may hold NUL too (PostgreSQL refuses it in text): a biller's bills, a
 * payment channel's answer and its signed webhook, and what staff type in the console's forms.
 * Each is taken without it and stored, on SQLite and on PostgreSQL alike.
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
import { consoleLogin, postForm } from '../browser/console-support.js';

const SECRET = 'whsec-nul-0123456789';

describe('NUL in what partners and staff send', () => {
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

  it("stores a biller's bills whose holder, period and id hold NUL, and answers with them", async () => {
    biller.addAccount({
      account: '8000001',
      holder: 'هند\u0000 سامر',
      governorate: 'DAM\u0000',
      bills: [
        {
          id: 'B-\u00008000001',
          period: '9-10\u0000',
          amountMinor: 1_875_000,
          currency: 'SYP',
          dueDate: '2026-11-28',
          status: 'unpaid',
        },
      ],
    });
    const r = await new SandboxUser(t.url, 'sms', '+963944310001').say('فاتورة كهرباء 8000001');
    assert.match(r.replies[0]!, /^الكهرباء 8000001: 18750 ل\.س، 9-10،/);
    const snapshot = await t.tasdeed.store.getAccountSnapshot('electricity', '8000001');
    assert.equal(snapshot?.holder, 'هند سامر');
    assert.equal(snapshot?.governorate, 'DAM');
    assert.deepEqual(
      snapshot?.bills.map((b) => [b.billId, b.period]),
      [['B-8000001', '9-10']],
    );
  });

  it("stores a channel's instructions holding NUL, and applies a webhook whose event id holds one", async () => {
    biller.addAccount({
      account: '8000002',
      holder: 'هند سامر',
      governorate: 'DAM',
      bills: [
        {
          id: 'B-8000002',
          period: '9-10',
          amountMinor: 1_875_000,
          currency: 'SYP',
          dueDate: '2026-11-28',
          status: 'unpaid',
        },
      ],
    });
    channel.instructions = 'Approve\u0000 in your wallet app.';
    try {
      const r = await new SandboxUser(t.url, 'sms', '+963944310002').say('PAY elec 8000002');
      const ref = /P-[0-9A-Z]{10}/.exec(r.replies.join(' '))?.[0];
      assert.ok(ref, JSON.stringify(r.replies));
      const provider = await waitFor('initiation', () => channel.paymentFor(ref));
      const payment = await waitFor('the channel answered', async () => {
        const p = await t.tasdeed.store.getPayment(ref);
        return p?.status === 'pending' ? p : null;
      });
      assert.equal(payment.instructions, 'Approve in your wallet app.');
      const res = await channel.sendWebhook(`${t.url}/payments/webhook/wallet`, {
        eventId: 'ev-\u0000nul',
        providerRef: provider.providerRef,
        status: 'succeeded',
      });
      assert.equal(res.status, 200, res.body);
      assert.equal((await t.tasdeed.store.getPayment(ref))?.status, 'succeeded');
      assert.deepEqual(
        (await t.tasdeed.store.paymentEvents(ref)).map((e) => e.eventId),
        ['ev-nul'],
      );
    } finally {
      channel.instructions = 'Approve the payment in your wallet app.';
    }
  });

  it("takes the console's broadcast form holding NUL", async () => {
    const staff = await consoleLogin(t.url);
    const res = await postForm(t.url, '/admin/console/broadcasts', staff.cookie, {
      _csrf: staff.csrf,
      textAr: 'صيانة\u0000 مجدولة',
      textEn: 'Planned\u0000 works',
      audience: 'all',
      channels: ['sms'],
      action: 'send',
    });
    assert.equal(res.status, 303, await res.text());
    const list = await t.tasdeed.broadcasts.list(5);
    assert.deepEqual(list[0]?.text, { ar: 'صيانة مجدولة', en: 'Planned works' });
  });
});
