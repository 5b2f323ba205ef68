/**
 * The scripted conversation of issue 3 (start → follow an account → bill → pay → confirmation
 * → receipt), on the simulated adapters in polling mode and on the HTTP adapters (fake biller,
 * fake payment channel whose webhook is signed) in webhook mode; with the HTTP biller, what
 * needs its figures fixed: a slow biller (the webhook answers at once) and /bills in full.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  startFakeBiller,
  type FakeAccount,
  type FakeBill,
  type FakeBiller,
} from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import { daysFromToday, httpCatalogue, waitFor } from '../support/harness.js';
import {
  assertPressActedOnce,
  buttons,
  plain,
  postUpdate,
  queryIdOf,
  type Sent,
  startTelegram,
  type TelegramRig,
  TelegramUser,
} from '../support/telegram.js';

/** start → follow → bill → pay (wallet from the shared contact); returns the payment reference. */
async function startToPay(u: TelegramUser, account: string, channelId?: string): Promise<string> {
  const welcome = await u.say('/start');
  assert.deepEqual(buttons(welcome), ['عربي', 'ENGLISH']);
  await u.press('عربي');
  const tour = await u.press('GOV DAM');
  assert.match(plain(tour.text), /^محافظتك: دمشق\nجولة سريعة: \/follow /);
  await u.say('/follow');
  await u.press('ADD electricity');
  const followed = await u.say(account);
  // Both accounts are held by محمد خالد الأحمد.
  assert.equal(
    plain(followed.text),
    `تمت متابعة الكهرباء ${account} (م*** خ*** ا***). ستصلك تذكيرات بالفواتير.`,
  );
  const bills = await u.say('/bills');
  assert.match(plain(bills.text), new RegExp(`^الكهرباء ${account}: .+ ل\\.س`));
  const bill = await u.say(`فاتورة كهرباء ${account}`);
  assert.ok(buttons(bill).includes(`PAY electricity ${account}`));
  let ask = await u.press(`PAY electricity ${account}`);
  if (channelId) {
    // Several channels: their buttons come first, the usual one leading.
    assert.match(plain(ask.text), new RegExp(`^ادفع .+ ل\\.س لفاتورة الكهرباء ${account} عبر:$`));
    assert.ok(
      buttons(ask).includes(`PAY electricity ${account} ${channelId}`),
      JSON.stringify(buttons(ask)),
    );
    ask = await u.press(`PAY electricity ${account} ${channelId}`);
  }
  assert.equal(
    plain(ask.text),
    'أرسل رقم الهاتف المسجّل في محفظتك أو حسابك المصرفي، مثال: 0944123456',
  );
  const keyboard = ask.reply_markup as { keyboard?: Array<Array<{ request_contact?: boolean }>> };
  assert.equal(keyboard.keyboard?.[0]?.[0]?.request_contact, true);
  const notOwn = await u.shareContact('+963944000000', 1);
  assert.equal(plain(notOwn.text), 'أرسل رقمك أنت، أو اكتب رقم المحفظة.');
  const started: Sent = await u.shareContact('963944123456');
  assert.match(plain(started.text), /^الدفعة P-[0-9A-Z]{10}: /);
  return /P-[0-9A-Z]{10}/.exec(started.text)![0];
}

describe('scripted Telegram conversation, simulated adapters, polling mode', () => {
  let rig: TelegramRig;
  before(async () => {
    rig = await startTelegram({ mode: 'polling' });
  });
  after(async () => {
    await rig.close();
  });

  it('deletes the webhook before polling', async () => {
    await waitFor('polling', () => rig.fake.callsOf('getUpdates').length > 0);
    const methods = rig.fake.calls.map((c) => c.method);
    assert.ok(methods.indexOf('deleteWebhook') >= 0);
    assert.ok(methods.indexOf('deleteWebhook') < methods.indexOf('getUpdates'));
    assert.equal(rig.fake.callsOf('setWebhook').length, 0);
    const res = await fetch(`${rig.t.url}/telegram/webhook`, { method: 'POST' });
    assert.equal(res.status, 404, 'no webhook route in polling mode');
  });

  it('start → follow → bill → pay → confirmation → receipt', async () => {
    const u = new TelegramUser(rig, 900_001);
    const ref = await startToPay(u, '1000101', 'mtn-cash');
    const receipt = await u.next();
    assert.match(
      plain(receipt.text),
      new RegExp(`^إيصال: دُفع .+ لفاتورة الكهرباء 1000101 .+ ${ref}$`),
    );
    const payment = await rig.t.tasdeed.store.getPayment(ref);
    assert.equal(payment?.status, 'succeeded');
    assert.equal(payment?.payerAddress, '+963944123456');
  });

  it('acts once on a button press getUpdates serves twice (same update_id)', async () => {
    const u = new TelegramUser(rig, 900_002);
    const press = u.callback('ADD water 2000101');
    const queryId = queryIdOf(press);
    rig.fake.push(press);
    const followed = await u.next();
    assert.match(plain(followed.text), /^تمت متابعة المياه 2000101 /);
    // The confirmation was lost (the bot died before its next getUpdates): served again.
    rig.fake.redeliver(press);
    await assertPressActedOnce(rig, u.chatId, queryId, 'water 2000101');
  });
});

describe('scripted Telegram conversation, HTTP adapters, webhook mode', () => {
  const SECRET = 'whsec-telegram-0123456789';
  let biller: FakeBiller;
  let channel: FakePaymentChannel;
  let rig: TelegramRig;
  before(async () => {
    biller = await startFakeBiller({ token: 'biller-token' });
    channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    rig = await startTelegram({
      mode: 'webhook',
      catalogue: httpCatalogue({
        billerUrl: biller.url,
        billerToken: 'biller-token',
        paymentUrl: channel.url,
        webhookSecret: SECRET,
      }),
    });
  });
  after(async () => {
    await rig.close();
    await biller.close();
    await channel.close();
  });

  it('start → follow → bill → pay → signed confirmation → receipt', async () => {
    biller.addAccount({
      account: '4400101',
      holder: 'محمد خالد الأحمد',
      governorate: 'DAM',
      bills: [
        {
          id: 'B-4400101',
          period: '9-10',
          amountMinor: 1_875_000,
          currency: 'SYP',
          dueDate: '2026-11-28',
          status: 'unpaid',
        },
      ],
    });
    const u = new TelegramUser(rig, 910_001);
    const ref = await startToPay(u, '4400101');
    const provider = await waitFor('initiation', () => channel.paymentFor(ref));
    assert.equal(provider.payer.address, '+963944123456');
    const res = await channel.sendWebhook(`${rig.t.url}/payments/webhook/wallet`, {
      providerRef: provider.providerRef,
      status: 'succeeded',
    });
    assert.equal(res.status, 200);
    const receipt = await u.next();
    assert.equal(
      plain(receipt.text),
      `إيصال: دُفع 18750 ل.س لفاتورة الكهرباء 4400101 عبر محفظة الجوال. المرجع ${ref}`,
    );
    await waitFor('settlement', () => biller.settlements.find((s) => s.billId === 'B-4400101'));
  });

  it('answers the webhook at once while the biller is slow; the reply follows', async () => {
    const due = daysFromToday(400);
    biller.addAccount(account('4400202', [bill('B-4400202', '9-10', 100_000, due.iso)]));
    const u = new TelegramUser(rig, 910_002);
    const update = u.text('فاتورة كهرباء 4400202');
    biller.delayMs = 2_000;
    try {
      const posted = performance.now();
      assert.equal(await postUpdate(rig, update), 200);
      const answeredMs = performance.now() - posted;
      assert.ok(answeredMs < 1_000, `the webhook answered after ${Math.round(answeredMs)} ms`);
      await waitFor('the biller to be asked', () =>
        biller.requests.find((r) => r.path === '/accounts/4400202/bills'),
      );
      assert.equal(rig.fake.sentTo(u.chatId).length, 0, 'no reply before the biller answers');
      const reply = await u.next();
      const repliedMs = performance.now() - posted;
      assert.ok(repliedMs >= 2_000, `the reply came ${Math.round(repliedMs)} ms after the post`);
      assert.equal(plain(reply.text), `الكهرباء 4400202: 1000 ل.س، دورة 9-10، تستحق ${due.shown}`);
    } finally {
      biller.delayMs = 0;
    }
  });

  it('/bills lists every followed account with its period and due date (or that it is overdue), in Arabic and English', async () => {
    const [overdue, older, due] = [daysFromToday(-70), daysFromToday(-130), daysFromToday(400)];
    biller.addAccount(
      account('4400303', [
        bill('B-4400303', '7-8', 1_250_050, overdue.iso),
        { ...bill('B-4400303-old', '5-6', 990_000, older.iso), status: 'paid' },
      ]),
    );
    biller.addAccount(account('4400404', [bill('B-4400404', '11-12', 2_000_000, due.iso)]));
    for (const [chatId, language, follow, expected] of [
      [
        910_003,
        'ar',
        'اشترك كهرباء',
        `الكهرباء 4400303: 12500.50 ل.س، دورة 7-8، متأخرة منذ ${overdue.shown}\n` +
          `الكهرباء 4400404: 20000 ل.س، دورة 11-12، تستحق ${due.shown}`,
      ],
      [
        910_004,
        'en',
        'ADD electricity',
        `Electricity 4400303: 12,500.50 SYP, period 7-8, overdue since ${overdue.shown}\n` +
          `Electricity 4400404: 20,000 SYP, period 11-12, due ${due.shown}`,
      ],
    ] as const) {
      const u = new TelegramUser(rig, chatId, language);
      await u.say(`${follow} 4400303`);
      await u.say(`${follow} 4400404`);
      const bills = await u.say('/bills');
      assert.equal(plain(bills.text), expected);
    }
  });
});

function bill(id: string, period: string, amountMinor: number, dueDate: string): FakeBill {
  return { id, period, amountMinor, currency: 'SYP', dueDate, status: 'unpaid' };
}

function account(number: string, bills: FakeBill[]): FakeAccount {
  return { account: number, holder: 'سامر عادل العمر', governorate: 'DAM', bills };
}
