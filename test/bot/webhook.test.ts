/**
 * The Telegram bot in webhook mode, against the fake Bot API server and a real SQLite file:
 * every command and button, in Arabic and English, and the webhook's own rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { textUpdate } from '../support/fake-telegram.server.js';
import { waitFor } from '../support/harness.js';
import {
  buttons,
  labels,
  plain,
  postUpdate,
  startTelegram,
  TelegramUser,
  WEBHOOK_SECRET,
  type TelegramRig,
} from '../support/telegram.js';

const STAFF = 9_000_001;

describe('Telegram bot, webhook mode', () => {
  let rig: TelegramRig;
  let chat = 700_000;
  const user = () => new TelegramUser(rig, ++chat);
  before(async () => {
    rig = await startTelegram({ mode: 'webhook', staffIds: [STAFF] });
  });
  after(async () => {
    await rig.close();
  });

  it('registers the webhook with PUBLIC_URL and the secret token at start', async () => {
    await waitFor('setWebhook', () => rig.fake.webhook);
    assert.deepEqual(rig.fake.webhook, {
      url: `${rig.t.url}/telegram/webhook`,
      secretToken: WEBHOOK_SECRET,
    });
    assert.equal(rig.fake.callsOf('deleteWebhook').length, 0);
    assert.ok(rig.fake.callsOf('setMyCommands').length >= 1);
  });

  it('refuses a wrong or missing secret with 401 and records nothing', async () => {
    const u = user();
    const update = { ...textUpdate(u.chatId, '/start'), update_id: rig.fake.updateId() };
    assert.equal(await postUpdate(rig, update, 'wrong-secret'), 401);
    assert.equal(await postUpdate(rig, update, null), 401);
    assert.equal(await postUpdate(rig, update, `${WEBHOOK_SECRET}x`), 401);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(rig.fake.sentTo(u.chatId).length, 0);
    assert.equal(await postUpdate(rig, { update_id: -1 }), 400);
  });

  it('acts once on a redelivered update (same update_id)', async () => {
    const u = user();
    const update = {
      ...textUpdate(u.chatId, 'فاتورة كهرباء 1000101'),
      update_id: rig.fake.updateId(),
    };
    assert.equal(await postUpdate(rig, update), 200);
    assert.equal(await postUpdate(rig, update), 200);
    await u.next();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rig.fake.sentTo(u.chatId).length, 1);
  });

  it('/start in Arabic: language, then governorate, then the tour', async () => {
    const u = user();
    const welcome = await u.say('/start');
    assert.match(plain(welcome.text), /^أهلاً بك في تسديد/);
    assert.match(plain(welcome.text), /اختر اللغة/);
    assert.deepEqual(buttons(welcome), ['عربي', 'ENGLISH']);
    assert.deepEqual(labels(welcome), ['العربية', 'English']);
    const gov = await u.press('عربي');
    assert.match(plain(gov.text), /في أي محافظة/);
    assert.equal(buttons(gov).length, 14);
    assert.ok(labels(gov).includes('دمشق'));
    const tour = await u.press('GOV DAM');
    assert.match(plain(tour.text), /محافظتك: دمشق/);
    assert.match(plain(tour.text), /جولة سريعة/);
  });

  it('/start in English: the English button switches the language', async () => {
    const u = user();
    await u.say('/start');
    const gov = await u.press('ENGLISH');
    assert.match(plain(gov.text), /Messages will be in English/);
    assert.ok(labels(gov).includes('Damascus'));
    const tour = await u.press('GOV ALE');
    assert.match(plain(tour.text), /Your governorate: Aleppo/);
    assert.match(plain(tour.text), /A short tour/);
  });

  it('follows an account: biller buttons → account number → validation → masked holder', async () => {
    const u = user();
    const which = await u.say('/follow');
    assert.deepEqual(buttons(which), ['ADD electricity', 'ADD water', 'ADD telecom']);
    const ask = await u.press('ADD electricity');
    assert.equal(plain(ask.text), 'أرسل رقم حساب الكهرباء فقط. مثال: 1234567');
    const invalid = await u.say('12');
    assert.match(plain(invalid.text), /ليس رقم حساب صحيحاً|غير صالح|ليس/);
    const followed = await u.say('١٠٠٠١٠١');
    assert.match(plain(followed.text), /1000101/);
    assert.match(plain(followed.text), /\*\*\*/);
    const accounts = await u.say('/accounts');
    assert.ok(buttons(accounts).includes('REMOVE electricity 1000101'));
    assert.ok(buttons(accounts).includes('BILL electricity 1000101'));
    const bills = await u.say('/bills');
    assert.match(plain(bills.text), /^الكهرباء 1000101: .+ ل\.س/);
    const removed = await u.press('REMOVE electricity 1000101');
    assert.match(plain(removed.text), /1000101/);
    assert.match(plain((await u.say('/accounts')).text), /لا تتابع|لا حسابات|ADD|اشترك/);
  });

  it('follows an account in English', async () => {
    const u = user();
    await u.say('/start');
    await u.press('ENGLISH');
    await u.press('ADD water');
    const followed = await u.say('2000101');
    assert.match(plain(followed.text), /^Following Water 2000101 \(.*\*\*\*.*\)/);
    const bills = await u.say('/bills');
    assert.match(plain(bills.text), /^Water 2000101: [\d,]+ SYP/);
  });

  it('/reminders shows the state and switches it with a button, in both languages', async () => {
    const u = user();
    const on = await u.say('/reminders');
    assert.match(plain(on.text), /مفعّل/);
    assert.deepEqual(buttons(on), ['REMIND OFF']);
    const off = await u.press('REMIND OFF');
    assert.match(plain(off.text), /.+/);
    const again = await u.say('/reminders');
    assert.deepEqual(buttons(again), ['REMIND ON']);
    const e = user();
    await e.say('/start');
    await e.press('ENGLISH');
    const en = await e.say('/reminders');
    assert.equal(plain(en.text), 'Bill reminders are on.');
    assert.equal(plain((await e.press('REMIND OFF')).text), 'Reminders are off.');
  });

  it('/language offers both languages; /help lists the commands', async () => {
    const u = user();
    const lang = await u.say('/language');
    assert.deepEqual(buttons(lang), ['عربي', 'ENGLISH']);
    const help = await u.say('/help');
    assert.match(plain(help.text), /\/follow/);
    await u.press('ENGLISH');
    u.skipAll();
    assert.match(plain((await u.say('/help')).text), /Commands: \/follow/);
  });

  it('/stop confirms once, then nothing is sent until /start', async () => {
    const u = user();
    const stopped = await u.say('/stop');
    assert.match(plain(stopped.text), /إيقاف|أوقفت|توقف/);
    const quiet = {
      ...textUpdate(u.chatId, 'فاتورة كهرباء 1000101'),
      update_id: rig.fake.updateId(),
    };
    await u.send(quiet);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rig.fake.sentTo(u.chatId).length, 1);
    const back = await u.say('/start');
    assert.match(plain(back.text), /أهلاً بك/);
  });

  it('answers free text with the SMS grammar, Latin script in English', async () => {
    const u = user();
    const bill = await u.say('BILL electricity 1000101');
    assert.match(plain(bill.text), /^Electricity 1000101: [\d,]+ SYP/);
    assert.deepEqual(buttons(bill), ['PAY electricity 1000101', 'ADD electricity 1000101']);
    const unknown = await u.say('/nonsense');
    assert.match(plain(unknown.text), /did not understand/);
  });

  it('answers a stale or forged button politely and changes nothing', async () => {
    const u = user();
    await u.say('/reminders');
    const before = rig.fake.sentTo(u.chatId).length;
    const answers = rig.fake.callsOf('answerCallbackQuery').length;
    for (const [data, age] of [
      ['REMIND OFF', 3 * 3600],
      ['DROP TABLE Subscriber', 5],
      ['COV electricity IDL on', 5],
      ['1', 5],
    ] as const) {
      await u.send({ ...callback(u.chatId, data, age), update_id: rig.fake.updateId() });
    }
    await waitFor('answers', () => rig.fake.callsOf('answerCallbackQuery').length >= answers + 4);
    const texts = rig.fake
      .callsOf('answerCallbackQuery')
      .slice(answers)
      .map((c) => plain(String(c.params.text)));
    assert.ok(
      texts.every((t) => /هذا الزر قديم/.test(t)),
      texts.join('|'),
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(rig.fake.sentTo(u.chatId).length, before);
    const sub = await subscriberOf(u.chatId);
    assert.equal(sub.remindersEnabled, true);
    const cov = await rig.t.tasdeed.store.getCoverage('electricity', 'IDL');
    assert.equal(cov?.available, false);
  });

  it('keeps /coverage for staff: others get the unknown-command answer', async () => {
    const u = user();
    const refused = await u.say('/coverage');
    const unknown = await u.say('/whatever');
    assert.equal(refused.text, unknown.text);
    assert.deepEqual(buttons(refused), buttons(unknown));

    const staff = new TelegramUser(rig, STAFF);
    const pick = await staff.say('/coverage');
    assert.deepEqual(buttons(pick), ['COV electricity', 'COV water', 'COV telecom']);
    const view = await staff.press('COV electricity');
    assert.equal(buttons(view).length, 14);
    assert.ok(buttons(view).includes('COV electricity IDL on'));
    assert.ok(labels(view).map(plain).includes('❌ إدلب'));
    const edits = rig.fake.callsOf('editMessageReplyMarkup').length;
    await staff.send({
      ...callback(STAFF, 'COV electricity IDL on', 5),
      update_id: rig.fake.updateId(),
    });
    await waitFor('edit', () => rig.fake.callsOf('editMessageReplyMarkup').length > edits);
    const cov = await rig.t.tasdeed.store.getCoverage('electricity', 'IDL');
    assert.equal(cov?.available, true);
    assert.equal(cov?.updatedBy, `telegram:${STAFF}`);
    const answer = rig.fake.callsOf('answerCallbackQuery').at(-1);
    assert.match(plain(String(answer?.params.text)), /الكهرباء في إدلب: متاح/);
    await rig.t.tasdeed.store.setCoverage('electricity', 'IDL', false, 'test');
  });

  it('answered every callback query it was sent', async () => {
    await waitFor('all answered', () => {
      const answered = new Set(
        rig.fake.callsOf('answerCallbackQuery').map((c) => String(c.params.callback_query_id)),
      );
      return [...rig.callbacks].every((id) => answered.has(id));
    });
    assert.ok(rig.callbacks.size >= 15);
  });

  async function subscriberOf(chatId: number) {
    const identity = await rig.t.tasdeed.store.findIdentity('telegram', String(chatId));
    assert.ok(identity);
    const sub = await rig.t.tasdeed.store.getSubscriber(identity.subscriberId);
    assert.ok(sub);
    return sub;
  }
});

import { callbackUpdate } from '../support/fake-telegram.server.js';
function callback(chatId: number, data: string, ageS: number) {
  return callbackUpdate(chatId, data, { messageAgeS: ageS });
}
