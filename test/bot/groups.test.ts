/**
 * The bot serves private chats only. In a group every member would share one identity (one
 * wallet number, one set of bills, posted to everyone), so there it answers at most once per
 * chat, durably (not again after a restart), with a link to its private chat, and never looks
 * up a bill, starts a payment or records an identity. Button presses in a group are answered
 * and do nothing; channel posts are ignored. Webhook and polling mode, against the fake Bot
 * API, the HTTP biller and payment channel stand-ins, on the run's database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import {
  channelPostUpdate,
  groupCallbackUpdate,
  groupTextUpdate,
  type TgGroupChat,
  type TgUpdate,
} from '../support/fake-telegram.server.js';
import { httpCatalogue } from '../support/harness.js';
import {
  buttons,
  plain,
  queryIdOf,
  type RestartableRig,
  settled,
  startTelegram,
  TelegramUser,
} from '../support/telegram.js';

const SECRET = 'groups-webhook-secret-0123456789';
const STAFF = 9_100_001;
const ACCOUNT = '7320001';
const POINTER_AR =
  'أعمل في المحادثات الخاصة فقط، لا في المجموعات: لكل شخص حساباته ورقم محفظته. راسلني هنا:\nhttps://t.me/tasdeed_test_bot';
/** Where a press in a group sends the presser: the bot's private chat, started. */
const START_LINK = 'https://t.me/tasdeed_test_bot?start=group';
const POINTER_EN =
  'I only work in private chats, not in groups: each person has their own accounts and wallet number. Message me here:\nhttps://t.me/tasdeed_test_bot';

for (const mode of ['webhook', 'polling'] as const) {
  describe(`Telegram groups, ${mode} mode`, () => {
    let biller: FakeBiller;
    let channel: FakePaymentChannel;
    let rig: RestartableRig;
    const base = mode === 'webhook' ? 0 : 50;
    const memberA = 9_200_001 + base;
    const memberB = 9_200_002 + base;
    /** Sends any update as Telegram would (the webhook, or the fake's getUpdates queue). */
    const send = (update: Omit<TgUpdate, 'update_id'>) => {
      const full = { ...update, update_id: rig.fake.updateId() } as TgUpdate;
      return new TelegramUser(rig, 0).send(full);
    };
    before(async () => {
      biller = await startFakeBiller();
      channel = await startFakePaymentChannel({ webhookSecret: SECRET });
      biller.addAccount({
        account: ACCOUNT,
        holder: 'محمد خالد الأحمد',
        governorate: 'DAM',
        bills: [
          {
            id: `B-${ACCOUNT}`,
            period: '9-10',
            amountMinor: 1_875_000,
            currency: 'SYP',
            dueDate: '2036-11-28',
            status: 'unpaid',
          },
        ],
      });
      rig = await startTelegram({
        mode,
        staffIds: [STAFF],
        catalogue: httpCatalogue({
          billerUrl: biller.url,
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

    /** Nothing of the chat or its members was recorded as an identity. */
    async function noIdentities(...addresses: number[]): Promise<void> {
      for (const address of addresses) {
        assert.equal(
          await rig.t.tasdeed.store.findIdentity('telegram', String(address)),
          null,
          `identity for ${address}`,
        );
      }
    }

    it('PAY and BILL in a group: one pointer to the private chat, no lookup, no payment, no identity', async () => {
      const group: TgGroupChat = {
        id: mode === 'webhook' ? -1_001_000_000_001 : -1_001_000_000_051,
        type: 'supergroup',
      };
      await send(groupTextUpdate(group, memberA, `PAY elec ${ACCOUNT}`));
      const [pointer] = await rig.fake.waitForSent(group.id, 1);
      assert.equal(plain(pointer!.text), POINTER_AR);

      // Member B answers the wallet question member A's PAY would have asked.
      await send(groupTextUpdate(group, memberB, '0944123456'));
      await send(groupTextUpdate(group, memberB, `BILL elec ${ACCOUNT}`, 'en'));
      await send(groupTextUpdate(group, memberB, 'ادفع كهرباء ' + ACCOUNT));
      await send(groupTextUpdate(group, memberA, '/start'));
      await settled(rig);
      assert.equal(rig.fake.sentTo(group.id).length, 1, 'nothing more to the group');
      assert.deepEqual(biller.requests, [], 'no bill was looked up');
      assert.deepEqual(channel.requests, [], 'no payment request reached the channel');
      await noIdentities(group.id, memberA, memberB);
      assert.equal(rig.fake.sentTo(memberA).length + rig.fake.sentTo(memberB).length, 0);
    });

    it('the pointer is in the language of whoever wrote first, and once per chat', async () => {
      const group: TgGroupChat = { id: -4_000_001 - base, type: 'group' };
      await send(groupTextUpdate(group, memberB, 'HELP', 'en'));
      const [pointer] = await rig.fake.waitForSent(group.id, 1);
      assert.equal(plain(pointer!.text), POINTER_EN);
      await send(groupTextUpdate(group, memberA, 'مساعدة'));
      await settled(rig);
      assert.equal(rig.fake.sentTo(group.id).length, 1);
      await noIdentities(group.id);
    });

    it('staff commands in a group are refused like anything else', async () => {
      const group: TgGroupChat = { id: -4_000_101 - base, type: 'group' };
      await send(groupTextUpdate(group, STAFF, '/broadcast'));
      await rig.fake.waitForSent(group.id, 1);
      await send(groupTextUpdate(group, STAFF, 'انقطاع الكهرباء غداً'));
      await send(groupTextUpdate(group, STAFF, '/coverage'));
      await settled(rig);
      assert.equal(rig.fake.sentTo(group.id).length, 1, 'only the pointer');
      await noIdentities(group.id, STAFF);
      assert.deepEqual(await rig.t.tasdeed.store.listBroadcasts(10), []);
    });

    it('a button pressed in a group is answered and does nothing', async () => {
      const group: TgGroupChat = { id: -4_000_201 - base, type: 'supergroup' };
      const presses = [
        groupCallbackUpdate(group, memberA, `PAY electricity ${ACCOUNT}`),
        groupCallbackUpdate(group, memberB, `ADD electricity ${ACCOUNT}`),
        groupCallbackUpdate(group, STAFF, 'COV electricity DAM off'),
      ];
      for (const press of presses) await send(press);
      await settled(rig);
      for (const press of presses) {
        const answers = rig.fake
          .callsOf('answerCallbackQuery')
          .filter((c) => c.params.callback_query_id === queryIdOf(press));
        assert.equal(answers.length, 1, 'every press is answered once');
        // A link in the pop-up's text is not tappable: the answer's url opens the private chat.
        assert.equal(answers[0]!.params.url, START_LINK);
        assert.equal(answers[0]!.params.__ok, true, 'Telegram took the answer');
      }
      assert.equal(rig.fake.sentTo(group.id).length, 0, 'a press posts nothing to the group');
      assert.deepEqual(channel.requests, []);
      await noIdentities(group.id, memberA, memberB, STAFF);
      const dam = (await rig.t.tasdeed.store.listCoverage()).find(
        (c) => c.billerId === 'electricity' && c.governorate === 'DAM',
      );
      assert.equal(dam?.available, true, 'coverage unchanged');

      // The link opens the private chat with /start group: the usual welcome.
      const welcome = await new TelegramUser(rig, memberB).say('/start group');
      assert.deepEqual(buttons(welcome), ['عربي', 'ENGLISH']);
    });

    it('a channel post is ignored, commands included', async () => {
      // Telegram sends channel posts only if asked (allowed_updates leaves them out), but the
      // webhook takes whatever is posted to it, and grammY's command handlers take posts too.
      const channelId = -1_002_000_000_001 - base;
      await send(channelPostUpdate(channelId, '/start'));
      await send(channelPostUpdate(channelId, '/bills'));
      await send(channelPostUpdate(channelId, `PAY elec ${ACCOUNT}`));
      await send(channelPostUpdate(channelId, '0944123456'));
      await settled(rig);
      assert.deepEqual(
        rig.fake.calls.filter((c) => String(c.params.chat_id) === String(channelId)),
        [],
        'nothing addressed to the channel',
      );
      assert.deepEqual(channel.requests, []);
      await noIdentities(channelId);
    });

    it('after a restart a group that had its pointer gets nothing more; private chats still work', async () => {
      const group: TgGroupChat = { id: -4_000_301 - base, type: 'group' };
      await send(groupTextUpdate(group, memberA, `BILL elec ${ACCOUNT}`));
      await rig.fake.waitForSent(group.id, 1);
      await settled(rig);
      await rig.restart();
      await send(groupTextUpdate(group, memberB, `PAY elec ${ACCOUNT}`));
      await send(groupTextUpdate(group, memberA, '0944123456'));
      await settled(rig);
      assert.equal(rig.fake.sentTo(group.id).length, 1);
      assert.deepEqual(channel.requests, []);

      // The same person in their private chat is served as always.
      const own = new TelegramUser(rig, memberA);
      const bill = await own.say(`فاتورة كهرباء ${ACCOUNT}`);
      assert.match(plain(bill.text), new RegExp(`^الكهرباء ${ACCOUNT}: `));
      await noIdentities(group.id);
    });
  });
}
