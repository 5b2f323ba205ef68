/**
 * The scripted conversation of issue 3 (start → follow an account → bill → pay → confirmation
 * → receipt), on the simulated adapters in polling mode and on the HTTP adapters (fake biller,
 * fake payment channel whose webhook is signed) in webhook mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import { httpCatalogue, waitFor } from '../support/harness.js';
import {
  buttons,
  plain,
  startTelegram,
  TelegramUser,
  type Sent,
  type TelegramRig,
} from '../support/telegram.js';

/** start → follow → bill → pay (wallet from the shared contact); returns the payment reference. */
async function startToPay(u: TelegramUser, account: string, channelId?: string): Promise<string> {
  const welcome = await u.say('/start');
  assert.deepEqual(buttons(welcome), ['عربي', 'ENGLISH']);
  await u.press('عربي');
  const tour = await u.press('GOV DAM');
  assert.match(plain(tour.text), /جولة سريعة/);
  await u.say('/follow');
  await u.press('ADD electricity');
  const followed = await u.say(account);
  assert.match(plain(followed.text), new RegExp(`${account}.*\\*\\*\\*`));
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
  assert.match(plain(ask.text), /رقم/);
  const keyboard = ask.reply_markup as { keyboard?: Array<Array<{ request_contact?: boolean }>> };
  assert.equal(keyboard.keyboard?.[0]?.[0]?.request_contact, true);
  const notOwn = await u.shareContact('+963944000000', 1);
  assert.match(plain(notOwn.text), /أرسل رقمك أنت/);
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

  it('acts once on an update getUpdates serves twice', async () => {
    const u = new TelegramUser(rig, 900_002);
    const update = rig.fake.push({
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: u.chatId, type: 'private' },
        from: { id: u.chatId, is_bot: false, first_name: 'X' },
        text: 'BILL water 2000101',
      },
    });
    await u.next();
    rig.fake.push(update);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(rig.fake.sentTo(u.chatId).length, 1);
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
    assert.match(plain(receipt.text), new RegExp(`^إيصال: دُفع 18750 ل\\.س .*${ref}$`));
    await waitFor('settlement', () => biller.settlements.find((s) => s.billId === 'B-4400101'));
  });
});
