/**
 * The hourly limit of payment starts per payer number cannot lock the number's owner out (found
 * by review): starts were counted per payer number whoever made them, an SMS subscriber always
 * pays from their own number, so a stranger on Telegram typing that number five times blocked
 * its owner every hour. Now a number's verified owner (an SMS sender paying from their own
 * number, a Telegram user who shared their own contact) is held by the per-subscriber limit
 * only, and the per-number count is of the starts by everyone else, who are still limited.
 * SMS through the fake Twilio, Telegram through the fake Bot API, simulated adapters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeTelegram } from '../support/fake-telegram.server.js';
import { plain, TelegramUser, WEBHOOK_SECRET, type TelegramRig } from '../support/telegram.js';
import { smsTurn, startSms, type SmsRig } from '../sms-front/rig.js';

const STARTED = /^Payment P-[0-9A-Z]{10}: /;
const PAYER_LIMIT = /^Payments from this wallet number reached the limit of 5 an hour\./;

describe('payment starts per payer number spare its verified owner', () => {
  let sms: SmsRig;
  let fake: FakeTelegram;
  let telegram: TelegramRig;

  before(async () => {
    fake = await new FakeTelegram().start();
    sms = await startSms({
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
    telegram = { t: sms.t, fake, mode: 'webhook', callbacks: new Set(), close: () => sms.close() };
  });
  after(async () => {
    await sms.close();
    await fake.close();
  });

  let chat = 810_000;
  /** A new Telegram user pays a bill from `wallet` (typed); returns the answer. */
  async function strangerPays(wallet: string, account: string): Promise<string> {
    const u = new TelegramUser(telegram, ++chat, 'en');
    const ask = await u.say(`PAY ${account} bank`);
    assert.match(plain(ask.text), /phone number registered with your wallet/);
    return plain((await u.say(wallet)).text);
  }

  it('the SMS owner pays after 5 strangers started payments with their number', async () => {
    for (let i = 1; i <= 5; i++) {
      assert.match(await strangerPays('0944800001', `water 2000${i}01`), STARTED);
    }
    assert.match(await strangerPays('0944800001', 'water 2000601'), PAYER_LIMIT);
    const paid = (await smsTurn(sms, '+963944800001', 'ادفع مياه 2000701')).join('\n');
    assert.match(paid, /^دفعة P-[0-9A-Z]{10}: /);
  });

  it('so does a Telegram user who shared their own contact, then and later', async () => {
    for (let i = 1; i <= 5; i++) {
      assert.match(await strangerPays('0944800002', `telecom 3000${i}01`), STARTED);
    }
    const owner = new TelegramUser(telegram, ++chat, 'en');
    const ask = await owner.say('PAY telecom 3000601 bank');
    assert.match(plain(ask.text), /phone number registered with your wallet/);
    assert.match(plain((await owner.shareContact('963944800002')).text), STARTED);
    await owner.next(); // the receipt
    // The shared number is kept as theirs.
    assert.match(plain((await owner.say('PAY telecom 3000701 bank')).text), STARTED);
    assert.match(await strangerPays('0944800002', 'telecom 3000801'), PAYER_LIMIT);
  });
});
