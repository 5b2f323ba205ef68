/**
 * The Telegram bot's features, in webhook and in polling mode, against the fake Bot API server
 * and a real SQLite file: every command and button, in Arabic and in English, compared with the
 * exact texts of locales/ar.ftl and locales/en.ftl (isolation marks stripped, except where the
 * marks themselves are the point). The webhook route's own rules are in webhook.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  buttons,
  labels,
  plain,
  queryIdOf,
  type RestartableRig,
  type Sent,
  settled,
  startTelegram,
  TelegramUser,
} from '../support/telegram.js';
import { waitFor } from '../support/harness.js';

const STAFF = 9_000_001;
const STAFF_EN = 9_000_002;
const FSI = '\u2068';
const PDI = '\u2069';

const WELCOME_AR =
  'أهلاً بك في تسديد. اسأل عن فاتورتك: فاتورة كهرباء ورقم الحساب. للمساعدة: مساعدة\nاختر اللغة:';
const WELCOME_EN =
  'Welcome to Tasdeed. Ask for a bill: BILL electricity and the account number. Help: HELP\nChoose your language:';
const STALE_AR = 'هذا الزر قديم. أرسل /help للبدء من جديد.';
const STALE_EN = 'This button is out of date. Send /help to start again.';
const HELP_AR =
  'أرسل: فاتورة كهرباء 1234567 للاستعلام، ادفع كهرباء 1234567 للدفع، اشترك كهرباء 1234567 للتذكير، إيقاف لإلغاء الرسائل.\nالأوامر: /follow متابعة حساب، /bills الفواتير، /accounts الحسابات، /reminders التذكير، /language اللغة، /stop إيقاف الرسائل.';
const HELP_EN =
  'Send: BILL elec 1234567 to see a bill, PAY elec 1234567 to pay, ADD elec 1234567 for reminders, ACCOUNTS, STOP to end messages.\nCommands: /follow an account, /bills, /accounts, /reminders, /language, /stop messages.';

/** The text of a message without Fluent's isolation marks. */
const text = (message: Sent) => plain(message.text);

for (const mode of ['webhook', 'polling'] as const) {
  describe(`Telegram bot features, ${mode} mode`, () => {
    let rig: RestartableRig;
    let chat = mode === 'webhook' ? 700_000 : 750_000;
    /** A new person; `languageCode` is what their Telegram client is set to. */
    const user = (languageCode = 'ar') => new TelegramUser(rig, ++chat, languageCode);
    before(async () => {
      rig = await startTelegram({ mode, staffIds: [STAFF, STAFF_EN] });
    });
    after(async () => {
      await rig.close();
    });

    it('/start in Arabic: language, then governorate, then the tour', async () => {
      const u = user();
      const welcome = await u.say('/start');
      assert.equal(text(welcome), WELCOME_AR);
      assert.deepEqual(buttons(welcome), ['عربي', 'ENGLISH']);
      assert.deepEqual(labels(welcome), ['العربية', 'English']);
      const gov = await u.press('عربي');
      assert.equal(
        text(gov),
        'ستصلك الرسائل بالعربية.\nفي أي محافظة تسكن؟ (تحدد توفر الدفع الإلكتروني)',
      );
      assert.equal(buttons(gov).length, 14);
      assert.ok(labels(gov).includes('دمشق'), labels(gov).join(','));
      const tour = await u.press('GOV DAM');
      assert.match(text(tour), /^محافظتك: دمشق\nجولة سريعة: \/follow لمتابعة حساب/);
    });

    it('/start from a client set to English is answered in English', async () => {
      const u = user('en');
      const welcome = await u.say('/start');
      assert.equal(text(welcome), WELCOME_EN);
      assert.deepEqual(labels(welcome), ['العربية', 'English']);
    });

    it('/start in English: the English button switches the language', async () => {
      const u = user();
      assert.equal(text(await u.say('/start')), WELCOME_AR);
      const gov = await u.press('ENGLISH');
      assert.equal(
        text(gov),
        'Messages will be in English.\nWhich governorate do you live in? (It decides where e-payment is available.)',
      );
      assert.ok(labels(gov).includes('Damascus'), labels(gov).join(','));
      const tour = await u.press('GOV ALE');
      assert.match(text(tour), /^Your governorate: Aleppo\nA short tour: \/follow to follow/);
    });

    it('follows an account in Arabic: biller buttons → account number → validation → masked holder', async () => {
      const u = user();
      const which = await u.say('/follow');
      assert.equal(text(which), 'أي خدمة؟ مثال: اشترك كهرباء 1234567');
      assert.deepEqual(buttons(which), ['ADD electricity', 'ADD water', 'ADD telecom']);
      assert.deepEqual(labels(which), ['الكهرباء', 'المياه', 'الاتصالات']);
      const ask = await u.press('ADD electricity');
      assert.equal(text(ask), 'أرسل رقم حساب الكهرباء فقط. مثال: 1234567');
      assert.equal(text(await u.say('12')), '12 ليس رقم حساب الكهرباء صحيحاً.');
      const followed = await u.say('١٠٠٠١٠١');
      // Telegram gets Fluent's isolation marks around every argument (right for mixed
      // directions); the holder is masked: محمد خالد الأحمد.
      assert.equal(
        followed.text,
        `تمت متابعة ${FSI}الكهرباء${PDI} ${FSI}1000101${PDI} (${FSI}م*** خ*** ا***${PDI}). ستصلك تذكيرات بالفواتير.`,
      );
      assert.deepEqual(buttons(followed), ['BILL electricity 1000101']);
      const accounts = await u.say('/accounts');
      assert.equal(text(accounts), 'حساباتك (1):\nالكهرباء 1000101');
      assert.deepEqual(buttons(accounts), [
        'BILL electricity 1000101',
        'REMOVE electricity 1000101',
      ]);
      assert.deepEqual(labels(accounts).map(plain), [
        'الكهرباء 1000101',
        'إلغاء متابعة الكهرباء 1000101',
      ]);
      const bills = await u.say('/bills');
      assert.match(
        text(bills),
        /^الكهرباء 1000101: \d+ ل\.س، دورة \d{1,2}-\d{1,2}، تستحق 28\/\d\d\/20\d\d$/,
      );
      const removed = await u.press('REMOVE electricity 1000101');
      assert.equal(text(removed), 'أُلغيت متابعة الكهرباء 1000101.');
      assert.equal(text(await u.say('/accounts')), 'لا حسابات لديك. أرسل: اشترك كهرباء 1234567');
    });

    it('follows an account in English: buttons, validation, masked holder; /accounts stops following', async () => {
      const u = user('en');
      const which = await u.say('/follow');
      assert.equal(text(which), 'Which service? Example: ADD electricity 1234567');
      assert.deepEqual(labels(which), ['Electricity', 'Water', 'Telecom']);
      const ask = await u.press('ADD water');
      assert.equal(text(ask), 'Send only the Water account number. Example: 1234567');
      assert.equal(text(await u.say('12')), '12 is not a valid Water account number.');
      assert.equal(
        text(await u.say('2000199')),
        'No account 2000199 at Water. Please check the number.',
      );
      await u.press('ADD water');
      const followed = await u.say('2000101');
      // ليلى إبراهيم المصري, masked.
      assert.equal(
        text(followed),
        'Following Water 2000101 (ل*** إ*** ا***). You will get bill reminders.',
      );
      const accounts = await u.say('/accounts');
      assert.equal(text(accounts), 'Your accounts (1):\nWater 2000101');
      assert.deepEqual(labels(accounts).map(plain), [
        'Water 2000101',
        'Stop following Water 2000101',
      ]);
      const bills = await u.say('/bills');
      assert.match(
        text(bills),
        /^Water 2000101: [\d,]+ SYP, period \d{1,2}, due 28\/\d\d\/20\d\d$/,
      );
      const removed = await u.press('REMOVE water 2000101');
      assert.equal(text(removed), 'Stopped following Water 2000101.');
      assert.equal(
        text(await u.say('/accounts')),
        'You follow no accounts. Send: ADD electricity 1234567',
      );
    });

    it('takes numbers copied from its own messages (with their isolation marks)', async () => {
      const u = user();
      await u.press('ADD water');
      const followed = await u.say(`${FSI}2000101${PDI}`);
      assert.equal(
        text(followed),
        'تمت متابعة المياه 2000101 (ل*** إ*** ا***). ستصلك تذكيرات بالفواتير.',
      );
      const bill = await u.say(`فاتورة ${FSI}الكهرباء${PDI} ${FSI}1000101${PDI}`);
      assert.match(text(bill), /^الكهرباء 1000101: \d+ ل\.س، دورة /);
      const ask = await u.say('ادفع كهرباء 1000401 بنك');
      assert.equal(
        text(ask),
        'أرسل رقم الهاتف المسجّل في محفظتك أو حسابك المصرفي، مثال: 0944123456',
      );
      const started = await u.say(`${FSI}0944123456${PDI}`);
      assert.match(
        text(started),
        /^الدفعة P-[0-9A-Z]{10}: \d+ ل\.س لفاتورة الكهرباء 1000401 عبر تحويل مصرفي\./,
      );
      await u.next(); // the receipt
    });

    it('keeps the question "send the account number" across a restart', async () => {
      const u = user();
      const ask = await u.press('ADD electricity');
      assert.equal(text(ask), 'أرسل رقم حساب الكهرباء فقط. مثال: 1234567');
      await rig.restart();
      const followed = await u.say('1000101');
      assert.equal(
        text(followed),
        'تمت متابعة الكهرباء 1000101 (م*** خ*** ا***). ستصلك تذكيرات بالفواتير.',
      );
    });

    it('pays in English: channel buttons, typed wallet number, not asked again for a second payment', async () => {
      const u = user('en');
      const channels = await u.say('PAY electricity 1000201');
      assert.match(text(channels), /^Pay [\d,]+ SYP for Electricity 1000201 with:$/);
      assert.deepEqual(buttons(channels), [
        'PAY electricity 1000201 syriatel-cash',
        'PAY electricity 1000201 mtn-cash',
        'PAY electricity 1000201 bank',
      ]);
      assert.deepEqual(labels(channels), ['Syriatel Cash', 'MTN Cash', 'Bank transfer']);
      const ask = await u.press('PAY electricity 1000201 mtn-cash');
      assert.equal(
        text(ask),
        'Send the phone number registered with your wallet or bank account, e.g. 0944123456',
      );
      const keyboard = ask.reply_markup as {
        keyboard?: Array<Array<{ text: string; request_contact?: boolean }>>;
      };
      assert.deepEqual(keyboard.keyboard?.[0]?.[0], {
        text: 'Share my number',
        request_contact: true,
      });
      const started = await u.say('0944 123 456');
      const first =
        /^Payment (P-[0-9A-Z]{10}): ([\d,]+ SYP) for Electricity 1000201 via MTN Cash\. Confirm it on your phone; a receipt will follow\.\n/.exec(
          text(started),
        );
      assert.ok(first, text(started));
      assert.equal(
        text(await u.next()),
        `Receipt: paid ${first[2]} for Electricity 1000201 via MTN Cash. Ref ${first[1]}`,
      );

      // The second bill: the last channel leads, and the wallet number is not asked again.
      const again = await u.say('PAY electricity 1000301');
      assert.deepEqual(buttons(again), [
        'PAY electricity 1000301 mtn-cash',
        'PAY electricity 1000301 syriatel-cash',
        'PAY electricity 1000301 bank',
      ]);
      const second = await u.press('PAY electricity 1000301 mtn-cash');
      assert.match(
        text(second),
        /^Payment P-[0-9A-Z]{10}: [\d,]+ SYP for Electricity 1000301 via MTN Cash\./,
      );
      const ref = /P-[0-9A-Z]{10}/.exec(second.text)![0];
      assert.match(text(await u.next()), new RegExp(`^Receipt: paid .+ Ref ${ref}$`));
      for (const id of [first[1]!, ref]) {
        const payment = await rig.t.tasdeed.store.getPayment(id);
        assert.equal(payment?.payerAddress, '+963944123456');
      }
    });

    it('/reminders shows the state and switches it with a button, in both languages', async () => {
      const u = user();
      const on = await u.say('/reminders');
      assert.equal(text(on), 'التذكير بالفواتير مفعّل.');
      assert.deepEqual(buttons(on), ['REMIND OFF']);
      assert.deepEqual(labels(on), ['إيقاف التذكير']);
      assert.equal(text(await u.press('REMIND OFF')), 'التذكيرات متوقفة.');
      const again = await u.say('/reminders');
      assert.equal(text(again), 'التذكير بالفواتير متوقف.');
      assert.deepEqual(buttons(again), ['REMIND ON']);
      const e = user('en');
      const en = await e.say('/reminders');
      assert.equal(text(en), 'Bill reminders are on.');
      assert.deepEqual(labels(en), ['Reminders off']);
      assert.equal(text(await e.press('REMIND OFF')), 'Reminders are off.');
      assert.equal(text(await e.press('REMIND ON')), 'Reminders are on.');
    });

    it('/language switches to English and back to Arabic; /help follows the language', async () => {
      const u = user();
      const lang = await u.say('/language');
      assert.equal(text(lang), 'اختر اللغة:');
      assert.deepEqual(buttons(lang), ['عربي', 'ENGLISH']);
      assert.equal(text(await u.say('/help')), HELP_AR);
      assert.match(text(await u.press('ENGLISH')), /^Messages will be in English\.\n/);
      assert.equal(text(await u.say('/help')), HELP_EN);
      const back = await u.say('/language');
      assert.equal(text(back), 'Choose your language:');
      assert.match(text(await u.press('عربي')), /^ستصلك الرسائل بالعربية\.\n/);
      assert.equal(text(await u.say('/help')), HELP_AR);
    });

    for (const [language, stopped, quiet, welcome] of [
      ['ar', 'تم إيقاف رسائل تسديد. لإعادتها أرسل: بدء', 'فاتورة كهرباء 1000101', WELCOME_AR],
      [
        'en',
        'Tasdeed messages stopped. Send START to get them again.',
        'BILL elec 1000101',
        WELCOME_EN,
      ],
    ] as const) {
      it(`/stop confirms once, then nothing is sent until /start (${language})`, async () => {
        const u = user(language);
        assert.equal(text(await u.say('/stop')), stopped);
        await u.send(u.text(quiet));
        await u.send(u.callback('REMIND OFF'));
        await settled(rig, u.chatId);
        assert.equal(rig.fake.sentTo(u.chatId).length, 1, 'only the confirmation of the STOP');
        assert.equal(text(await u.say('/start')), welcome);
      });
    }

    it('answers free text with the SMS grammar, Latin script in English', async () => {
      const u = user();
      const bill = await u.say('BILL electricity 1000101');
      assert.match(text(bill), /^Electricity 1000101: [\d,]+ SYP, period \d{1,2}-\d{1,2}, due /);
      assert.deepEqual(buttons(bill), ['PAY electricity 1000101', 'ADD electricity 1000101']);
      assert.deepEqual(labels(bill), ['Pay', 'Follow']);
      assert.equal(
        text(await u.say('/nonsense')),
        'Sorry, I did not understand. Example: BILL elec 1234567. Send HELP for more.',
      );
    });

    for (const [language, stale] of [
      ['ar', STALE_AR],
      ['en', STALE_EN],
    ] as const) {
      it(`answers a stale or forged button politely and changes nothing (${language})`, async () => {
        const u = user(language);
        await u.say('/reminders');
        const before = rig.fake.sentTo(u.chatId).length;
        const answers = rig.fake.callsOf('answerCallbackQuery').length;
        for (const [data, age] of [
          ['REMIND OFF', 3 * 3600],
          ['DROP TABLE Subscriber', 5],
          ['COV electricity IDL on', 5],
          ['1', 5],
        ] as const) {
          await u.send(u.callback(data, age));
        }
        await waitFor(
          'answers',
          () => rig.fake.callsOf('answerCallbackQuery').length >= answers + 4,
        );
        const texts = rig.fake
          .callsOf('answerCallbackQuery')
          .slice(answers)
          .map((c) => plain(String(c.params.text)));
        assert.deepEqual(texts, [stale, stale, stale, stale]);
        await settled(rig, u.chatId);
        assert.equal(rig.fake.sentTo(u.chatId).length, before);
        const identity = await rig.t.tasdeed.store.findIdentity('telegram', String(u.chatId));
        assert.ok(identity, 'the person has an identity');
        const sub = await rig.t.tasdeed.store.getSubscriber(identity.subscriberId);
        assert.equal(sub?.remindersEnabled, true);
        const cov = await rig.t.tasdeed.store.getCoverage('electricity', 'IDL');
        assert.equal(cov?.available, false);
      });
    }

    it('keeps /coverage for staff: others get the unknown-command answer', async () => {
      const u = user();
      const refused = await u.say('/coverage');
      const unknown = await u.say('/whatever');
      assert.equal(refused.text, unknown.text);
      assert.deepEqual(buttons(refused), buttons(unknown));
    });

    for (const [language, staffId, pick, of, idlib, toast] of [
      [
        'ar',
        STAFF,
        'تغطية الدفع الإلكتروني. اختر الخدمة:',
        'الكهرباء: ✅ متاح، ❌ غير متاح. اضغط للتبديل.',
        '❌ إدلب',
        'الكهرباء في إدلب: متاح',
      ],
      [
        'en',
        STAFF_EN,
        'E-payment coverage. Choose a service:',
        'Electricity: ✅ available, ❌ not available. Press to switch.',
        '❌ Idlib',
        'Electricity in Idlib: available',
      ],
    ] as const) {
      it(`/coverage for staff views and switches coverage (${language})`, async () => {
        const staff = new TelegramUser(rig, staffId, language);
        const menu = await staff.say('/coverage');
        assert.equal(text(menu), pick);
        assert.deepEqual(buttons(menu), ['COV electricity', 'COV water', 'COV telecom']);
        const view = await staff.press('COV electricity');
        assert.equal(text(view), of);
        assert.equal(buttons(view).length, 14);
        assert.ok(buttons(view).includes('COV electricity IDL on'), buttons(view).join(','));
        assert.ok(labels(view).map(plain).includes(idlib), labels(view).join(','));
        const edits = rig.fake.callsOf('editMessageReplyMarkup').length;
        const press = staff.callback('COV electricity IDL on');
        await staff.send(press);
        await waitFor('edit', () => rig.fake.callsOf('editMessageReplyMarkup').length > edits);
        const cov = await rig.t.tasdeed.store.getCoverage('electricity', 'IDL');
        assert.equal(cov?.available, true);
        assert.equal(cov?.updatedBy, `telegram:${staffId}`);
        const id = queryIdOf(press);
        const answer = rig.fake
          .callsOf('answerCallbackQuery')
          .find((c) => c.params.callback_query_id === id);
        assert.equal(plain(String(answer?.params.text)), toast);
        await rig.t.tasdeed.store.setCoverage('electricity', 'IDL', false, 'test');
      });
    }

    it('answered every callback query the tests above sent (run after them)', async () => {
      await waitFor('all answered', () => {
        const answered = new Set(
          rig.fake.callsOf('answerCallbackQuery').map((c) => String(c.params.callback_query_id)),
        );
        return [...rig.callbacks].every((id) => answered.has(id));
      });
      assert.ok(rig.callbacks.size >= 30, `${rig.callbacks.size} callback queries`);
    });
  });
}
