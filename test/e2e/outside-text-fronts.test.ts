/**
 * Text from outside may hold what a database cannot store: PostgreSQL refuses NUL (U+0000) in
 * text, and a lone UTF-16 surrogate has no UTF-8 form. Whatever front it comes in on (a Twilio
 * SMS, an Android gateway event, a Telegram message, the sandbox, the staff API), the message is
 * answered as the same text without it, on SQLite and on PostgreSQL alike, and an id with
 * control characters in a path answers 400, never 500.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PrismaStore } from '../../src/db/prisma-store.js';
import { FakeTelegram } from '../support/fake-telegram.server.js';
import { SandboxUser, waitFor } from '../support/harness.js';
import { buttons, plain, TelegramUser, WEBHOOK_SECRET } from '../support/telegram.js';
import { androidInbound, nth, startSms, twilioInbound, type SmsRig } from '../sms-front/rig.js';

const ADMIN = {
  Authorization: 'Bearer test-admin-token-0123456789',
  'Content-Type': 'application/json',
};
const STAFF = 9_300_001;

describe('NUL and lone surrogates in what people send', () => {
  let telegram: FakeTelegram;
  let rig: SmsRig;
  before(async () => {
    telegram = await new FakeTelegram().start();
    rig = await startSms({
      TASDEED_SANDBOX: '1',
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TELEGRAM_STAFF_IDS: String(STAFF),
    });
  });
  after(async () => {
    await rig.close();
    await telegram.close();
  });

  /** The inbound SMS rows from a number: their text and processing error. */
  async function inboundFrom(from: string) {
    const store = rig.t.tasdeed.store;
    assert.ok(store instanceof PrismaStore);
    return store.read((db) =>
      db.smsInbound.findMany({
        where: { fromAddress: from },
        select: { text: true, error: true, processedAt: true },
      }),
    );
  }

  it('answers a Twilio SMS "HELP\\0x" as "HELPx", with the help reply through Twilio', async () => {
    const from = '+963944300001';
    const res = await twilioInbound(rig, from, 'HELP\u0000x');
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /<Response\/>/);
    const reply = await nth(rig, from, 1);
    // The same text without the NUL gets the same answer, from a number of its own.
    assert.equal((await twilioInbound(rig, '+963944300002', 'HELPx')).status, 200);
    assert.equal(reply, await nth(rig, '+963944300002', 1));
    assert.match(reply, /BILL/);
    const rows = await waitFor('the SMS processed', async () => {
      const found = await inboundFrom(from);
      return found.every((r) => r.processedAt) ? found : null;
    });
    assert.deepEqual(
      rows.map((r) => [r.text, r.error]),
      [['HELPx', null]],
    );
  });

  it('answers an Android sms:received whose text and sender hold NUL', async () => {
    const from = '+963944300003';
    assert.equal(await androidInbound(rig, from, 'مساعدة\u0000'), 200);
    const reply = await nth(rig, from, 1, 'android');
    assert.equal(await androidInbound(rig, '+963944300004', 'مساعدة'), 200);
    assert.equal(reply, await nth(rig, '+963944300004', 1, 'android'));
    assert.equal(await androidInbound(rig, '+96394430\u00000005', 'مساعدة'), 200);
    assert.equal(await nth(rig, '+963944300005', 1, 'android'), reply);
  });

  it('answers the sandbox whose from or text holds NUL or a lone surrogate', async () => {
    const plainReply = await new SandboxUser(rig.t.url, 'sms', 'sandbox-plain').say('BILL');
    assert.ok(plainReply.replies.length > 0);
    for (const [from, text] of [
      ['sandbox-\u0000nul', 'BILL'],
      ['sandbox-nul2', 'BI\u0000LL'],
      ['sandbox-\ud800half', 'BILL'],
      ['sandbox-half2', 'BILL\udc00'],
    ] as const) {
      const got = await new SandboxUser(rig.t.url, 'sms', from).say(text);
      assert.deepEqual(got.replies, plainReply.replies, JSON.stringify({ from, text }));
    }
    // The sender is the same identity when it reads its messages.
    const inbox = await fetch(
      `${rig.t.url}/sandbox/messages?channel=sms&from=${encodeURIComponent('sandbox-\u0000nul')}`,
    );
    assert.equal(inbox.status, 200);
  });

  it('answers a Telegram message holding NUL, and takes a staff broadcast text holding it', async () => {
    const tg = { t: rig.t, fake: telegram, mode: 'webhook' as const, callbacks: new Set<string>() };
    const chat = { ...tg, close: () => Promise.resolve() };
    const user = new TelegramUser(chat, 9_300_100);
    const other = new TelegramUser(chat, 9_300_101);
    const got = await user.say('مساعدة\u0000');
    assert.equal(got.text, (await other.say('مساعدة')).text);

    const staff = new TelegramUser(chat, STAFF);
    await staff.say('/broadcast');
    const menu = await staff.say('صيانة\u0000 مجدولة يوم الخميس');
    assert.match(plain(menu.text), /لمن نرسله؟/);
    const preview = await staff.press(buttons(menu)[0]!);
    assert.ok(plain(preview.text).includes('صيانة مجدولة يوم الخميس'), preview.text);
    await staff.press(buttons(preview)[0]!);
    const list = await rig.t.tasdeed.broadcasts.list(5);
    assert.equal(list[0]?.text.ar, 'صيانة مجدولة يوم الخميس');
  });

  it('takes a broadcast text holding NUL through the staff API', async () => {
    const res = await fetch(`${rig.t.url}/admin/broadcasts`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({
        text: { ar: 'انقطاع\u0000 الكهرباء', en: 'Power\u0000 cut' },
        audience: { languages: ['en'] },
        channels: ['sms'],
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const list = (await (
      await fetch(`${rig.t.url}/admin/broadcasts`, { headers: ADMIN })
    ).json()) as {
      broadcasts: Array<{ id: string; text: { ar: string; en: string | null } }>;
    };
    assert.deepEqual(list.broadcasts.find((b) => b.id === id)?.text, {
      ar: 'انقطاع الكهرباء',
      en: 'Power cut',
    });
  });

  it('answers 400 to an id with control characters in a path, 404 to one that does not exist', async () => {
    const status = async (method: 'GET' | 'POST', path: string, body?: unknown) =>
      (
        await fetch(`${rig.t.url}${path}`, {
          method,
          headers: ADMIN,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
      ).status;
    const resolve = { status: 'failed', note: 'x' };
    assert.deepEqual(
      [
        await status('GET', '/admin/payments/P-%00'),
        await status('GET', '/admin/payments/P-%01ABCDEFGH'),
        await status('POST', '/admin/payments/P-%00/resolve', resolve),
        await status('GET', '/admin/broadcasts/%00'),
        await status('POST', '/admin/broadcasts/B-%1F/cancel'),
        await status('POST', '/admin/console/held/P-%00/resolve'),
      ],
      [400, 400, 400, 400, 400, 400],
    );
    assert.deepEqual(
      [
        await status('GET', '/admin/payments/P-NOPE000000'),
        await status('POST', '/admin/payments/P-NOPE000000/resolve', resolve),
        await status('GET', '/admin/broadcasts/B-nope'),
        await status('POST', '/admin/broadcasts/B-nope/cancel'),
      ],
      [404, 404, 404, 404],
    );
  });
});
