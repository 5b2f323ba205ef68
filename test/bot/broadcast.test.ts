/**
 * Staff /broadcast in Telegram (docs/design.md §7: staff ids only, preview then confirm), against the
 * fake Bot API server in webhook mode and a real SQLite file: the text, the audience, the
 * preview's figures, Send and Urgent send, progress, cancel, buttons that went out of date,
 * the draft across a restart, and what everyone else gets.
 *
 * The quiet hours are set to every hour but one two hours ago, so that now is always quiet:
 * "Urgent send" goes out at once while "Send" waits, which is what the cancel test needs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import type { GovernorateCode } from '../../src/core/domain.js';
import { measureSms } from '../../src/sms/sms-renderer.js';
import { callbackUpdate, FakeTelegram } from '../support/fake-telegram.server.js';
import { removeTestDir, startTasdeed, waitFor } from '../support/harness.js';
import {
  buttons,
  labels,
  plain,
  queryIdOf,
  type Sent,
  type TelegramRig,
  TelegramUser,
  WEBHOOK_SECRET,
} from '../support/telegram.js';

const STAFF = 9_100_001;
const TEXT =
  'انقطاع مجدول للكهرباء في دمشق يوم الخميس من 9 إلى 13 لأعمال الصيانة. نعتذر عن الإزعاج.';

/** Every hour is quiet except the one two hours ago. */
function alwaysQuietNow(): string {
  const h = DateTime.now().setZone('Asia/Damascus').hour;
  return `${(h + 23) % 24}-${(h + 22) % 24}`;
}

describe('Telegram /broadcast (staff)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-broadcast-'));
  let fake: FakeTelegram;
  let rig: TelegramRig;
  let chat = 810_000;
  const env = () => ({
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_API_ROOT: fake.apiRoot,
    TELEGRAM_MODE: 'webhook',
    TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
    TELEGRAM_STAFF_IDS: String(STAFF),
    TASDEED_QUIET_HOURS: alwaysQuietNow(),
  });

  // Subscribers the audiences pick from (the staff member is one too: Arabic, no governorate).
  const dam: number[] = [];
  let ale = 0;
  let english = 0;
  /** One staff member for all tests: their chat's messages are read in order. */
  let staff: TelegramUser;

  before(async () => {
    fake = await new FakeTelegram().start();
    const t = await startTasdeed({ dir, env: env() });
    rig = {
      t,
      fake,
      mode: 'webhook',
      callbacks: new Set(),
      close: async () => {
        await rig.t.close();
        await fake.close();
      },
    };
    dam.push(await subscriber('DAM'), await subscriber('DAM'));
    ale = await subscriber('ALE');
    english = await subscriber('HOM', 'en');
    staff = new TelegramUser(rig, STAFF);
  });
  after(async () => {
    await rig.close();
    await removeTestDir(dir);
  });

  async function subscriber(gov: GovernorateCode, language: 'ar' | 'en' = 'ar'): Promise<number> {
    const id = ++chat;
    const store = rig.t.tasdeed.store;
    const { identity } = await store.ensureIdentity('telegram', String(id), language);
    await store.updateSubscriber(identity.subscriberId, { governorate: gov });
    return id;
  }

  /** Sends an update that gets no message (an old button): waits for its callback answer. */
  async function pressSilently(u: TelegramUser, data: string, ageS = 5): Promise<string> {
    const before = fake.callsOf('answerCallbackQuery').length;
    const update = { ...callbackUpdate(u.chatId, data, { messageAgeS: ageS }) };
    await u.send({ ...update, update_id: fake.updateId() });
    const id = queryIdOf(update);
    const answered = await waitFor('the callback answer', () =>
      fake
        .callsOf('answerCallbackQuery')
        .slice(before)
        .find((c) => c.params.callback_query_id === id),
    );
    const text = answered.params.text;
    return typeof text === 'string' ? plain(text) : '';
  }

  function assertButtonsFit(message: Sent) {
    for (const data of buttons(message)) {
      assert.ok(Buffer.byteLength(data, 'utf8') <= 64, `callback data too long: ${data}`);
    }
  }

  /** /broadcast, the text, and the audience menu; returns the menu message. */
  async function startDraft(staff: TelegramUser, text = TEXT): Promise<Sent> {
    const ask = await staff.say('/broadcast');
    assert.match(plain(ask.text), /اكتب نص البث بالعربية \(حتى 670 حرفاً\)/);
    assert.equal(labels(ask).length, 1);
    const menu = await staff.say(text);
    assert.match(plain(menu.text), /لمن نرسله؟/);
    assert.deepEqual(labels(menu).map(plain), [
      'الجميع',
      'حسب المحافظة',
      'حسب الخدمة',
      'حسب اللغة',
      'إلغاء',
    ]);
    assertButtonsFit(menu);
    return menu;
  }

  it('gives others exactly what an unknown command gets, and their presses do nothing', async () => {
    const u = new TelegramUser(rig, ale);
    const refused = await u.say('/broadcast');
    const unknown = await u.say('/whatever');
    assert.equal(refused.text, unknown.text);
    assert.deepEqual(buttons(refused), buttons(unknown));
    const byId = await u.say('/broadcast B-00000000-0000-0000-0000-000000000000');
    assert.equal(byId.text, unknown.text);
    // A staff member's draft is no key for anyone else.
    const menu = await startDraft(staff);
    const all = buttons(menu)[0]!;
    assert.match(await pressSilently(u, all), /هذا الزر قديم/);
    assert.match(await pressSilently(u, 'BCX B-00000000-0000-0000-0000-000000000000'), /قديم/);
    assert.equal((await rig.t.tasdeed.broadcasts.list()).length, 0);
    assert.equal(plain((await staff.press(buttons(menu).at(-1)!)).text), 'تم الإلغاء.');
  });

  it('asks text, audience, previews the figures, and sends on Urgent send to that audience only', async () => {
    const menu = await startDraft(staff);
    const byGov = await staff.press(buttons(menu)[1]!);
    assert.equal(buttons(byGov).length, 15); // 14 governorates and Cancel
    assert.ok(labels(byGov).map(plain).includes('دمشق'));
    assertButtonsFit(byGov);
    const damascus = buttons(byGov).find((b) => b.endsWith(' gov DAM'));
    assert.ok(damascus);

    const preview = await staff.press(damascus);
    const text = plain(preview.text);
    assert.match(text, /^معاينة البث:\n/);
    assert.ok(text.includes(TEXT), text);
    assert.match(text, /الجمهور: دمشق/);
    const parts = measureSms(TEXT).parts;
    assert.ok(parts >= 2);
    // Two Telegram chats in Damascus: no SMS is used, so nothing is paid.
    assert.match(text, new RegExp(`المستلمون: 2\\. أجزاء SMS للرسالة: ${parts}، والمجموع: 0\\.`));
    assert.deepEqual(labels(preview).map(plain), ['إرسال', 'إرسال عاجل', 'إلغاء']);
    assertButtonsFit(preview);

    const sent = await staff.press(buttons(preview)[1]!);
    const id = /B-[0-9a-f-]{36}/.exec(sent.text)?.[0];
    assert.ok(id, sent.text);
    assert.match(plain(sent.text), new RegExp(`^بدأ البث ${id}\\.\\n${id}: `));
    const record = await rig.t.tasdeed.store.getBroadcast(id);
    assert.equal(record?.createdBy, `telegram:${STAFF}`);
    assert.equal(record?.urgent, true);
    assert.deepEqual(record?.audience, { governorates: ['DAM'] });
    assert.deepEqual(record?.text, { ar: TEXT, en: null });

    // Urgent: it goes out in quiet hours, to the two Damascus chats and nobody else.
    for (const chatId of dam) {
      const got = await fake.waitForSent(chatId, 1);
      assert.equal(got[0]?.text, TEXT);
    }
    await rig.t.tasdeed.broadcasts.idle();
    assert.equal(fake.sentTo(ale).filter((m) => m.text === TEXT).length, 0);
    assert.equal(fake.sentTo(english).length, 0);

    // The same Send again (an old message by now) does nothing.
    assert.match(await pressSilently(staff, buttons(preview)[1]!), /قديم/);
    assert.match(await pressSilently(staff, buttons(preview)[0]!), /قديم/);
    assert.equal((await rig.t.tasdeed.broadcasts.list()).length, 1);

    // Progress by its button, by /broadcast <id> and by the start of the id.
    await waitFor('sent', async () => {
      const p = await rig.t.tasdeed.broadcasts.progress(id);
      return p?.status === 'done' && p.counts.sent === 2;
    });
    const progress = await staff.press(`BCP ${id}`);
    assert.equal(
      plain(progress.text),
      `${id}: انتهى. المستلمون 2: أُرسل 2 (وصل 0)، ينتظر 0، فشل 0، تُخطّي 0، أُلغي 0.`,
    );
    assert.deepEqual(buttons(progress), []); // finished: nothing to refresh or cancel
    assert.equal(plain((await staff.say(`/broadcast ${id}`)).text), plain(progress.text));
    assert.equal(
      plain((await staff.say(`/broadcast ${id.slice(0, 10)}`)).text),
      plain(progress.text),
    );
    // The id copied from the bot's own message, with Fluent's isolation marks around it.
    assert.equal(
      plain((await staff.say(`/broadcast \u2068${id}\u2069`)).text),
      plain(progress.text),
    );
    assert.match(plain((await staff.say('/broadcast B-nothing-here')).text), /لا يوجد بث/);
    // A finished broadcast cannot be cancelled any more.
    const late = await staff.press(`BCX ${id}`);
    assert.match(plain(late.text), new RegExp(`^انتهى البث ${id} قبل الإلغاء\\.`));
    assert.equal((await rig.t.tasdeed.broadcasts.progress(id))?.status, 'done');
  });

  it('Send waits for the quiet hours; the cancel button cancels what was not sent', async () => {
    const menu = await startDraft(staff, 'تمديد مهلة دفع فواتير الكهرباء حتى نهاية الشهر.');
    const preview = await staff.press(buttons(menu)[0]!);
    assert.match(plain(preview.text), /الجمهور: الجميع/);
    // Everyone: the four subscribers and the staff member.
    assert.match(plain(preview.text), /المستلمون: 5\./);
    const sent = await staff.press(buttons(preview)[0]!);
    const id = /B-[0-9a-f-]{36}/.exec(sent.text)?.[0];
    assert.ok(id);
    assert.equal((await rig.t.tasdeed.store.getBroadcast(id))?.urgent, false);
    assert.deepEqual(buttons(sent), [`BCP ${id}`, `BCX ${id}`]);
    await rig.t.tasdeed.broadcasts.idle();
    const waiting = await staff.press(`BCP ${id}`);
    assert.match(plain(waiting.text), /قيد الإرسال\. المستلمون 5: أُرسل 0 \(وصل 0\)، ينتظر 5،/);

    const cancelled = await staff.press(`BCX ${id}`);
    assert.match(plain(cancelled.text), new RegExp(`^أُلغي البث ${id}: `));
    assert.match(
      plain(cancelled.text),
      /أُلغي\. المستلمون 5: أُرسل 0 \(وصل 0\)، ينتظر 0، .*أُلغي 5\.$/,
    );
    const progress = await rig.t.tasdeed.broadcasts.progress(id);
    assert.equal(progress?.status, 'cancelled');
    assert.equal(progress?.counts.cancelled, 5);
    // Cancelling again changes nothing and says so.
    const again = await staff.press(`BCX ${id}`);
    assert.match(plain(again.text), new RegExp(`^أُلغي البث ${id}: `));
    assert.equal((await rig.t.tasdeed.broadcasts.progress(id))?.counts.cancelled, 5);
    for (const chatId of [...dam, ale, english]) {
      assert.equal(fake.sentTo(chatId).filter((m) => m.text.startsWith('تمديد')).length, 0);
    }
  });

  it('answers out-of-date buttons politely and acts on none of them', async () => {
    const first = await startDraft(staff);
    const second = await startDraft(staff, 'نص ثان');
    const count = (await rig.t.tasdeed.broadcasts.list()).length;
    // The first draft's buttons, a forged token, and the second's buttons on an old message.
    assert.match(await pressSilently(staff, buttons(first)[0]!), /قديم/);
    assert.match(await pressSilently(staff, 'BC 000000 all'), /قديم/);
    assert.match(await pressSilently(staff, buttons(second)[0]!, 3 * 3600), /قديم/);
    // Send before any preview: not a step of this draft.
    const token = /^BC ([0-9a-f]{6}) /.exec(buttons(second)[0]!)?.[1];
    assert.match(await pressSilently(staff, `BC ${token} send`), /قديم/);
    assert.match(await pressSilently(staff, `BC ${token} gov XXX`), /قديم/);
    assert.equal((await rig.t.tasdeed.broadcasts.list()).length, count);
    // The draft itself is untouched: its language list still works.
    const byLang = await staff.press(`BC ${token} lang`);
    assert.deepEqual(labels(byLang).map(plain), ['العربية', 'English', 'إلغاء']);
    const en = await staff.press(`BC ${token} lang en`);
    assert.match(plain(en.text), /الجمهور: English/);
    assert.match(plain(en.text), /المستلمون: 1\./);
    const dropped = await staff.press(buttons(en).at(-1)!);
    assert.equal(plain(dropped.text), 'تم الإلغاء.');
    assert.match(await pressSilently(staff, buttons(en)[0]!), /قديم/);
    assert.equal((await rig.t.tasdeed.broadcasts.list()).length, count);
  });

  it('refuses a text that is too long, takes CANCEL, and lets other commands through', async () => {
    await staff.say('/broadcast');
    const long = await staff.say('ب'.repeat(671));
    assert.match(plain(long.text), /أطول من 670 حرفاً \(671\)/);
    const cancelled = await staff.say('الغاء');
    assert.equal(plain(cancelled.text), 'تم الإلغاء.');
    // With no draft open, text is the conversation's again.
    const bill = await staff.say('فاتورة كهرباء 1000101');
    assert.match(plain(bill.text), /^الكهرباء 1000101: /);
  });

  it('offers the audiences again when nobody is in the one chosen', async () => {
    const menu = await startDraft(staff);
    const byGov = await staff.press(buttons(menu)[1]!);
    const idlib = buttons(byGov).find((b) => b.endsWith(' gov IDL'));
    assert.ok(idlib);
    const again = await staff.press(idlib);
    assert.match(
      plain(again.text),
      /الجمهور: إدلب\nلا أحد في هذا الجمهور\. اختر غيره\.\nلمن نرسله؟/,
    );
    assert.equal(buttons(again).length, 5);
    assert.match(await pressSilently(staff, idlib), /قديم/); // the old list went out of date
    await staff.press(buttons(again).at(-1)!);
  });

  it('keeps the draft across a restart (it is in the database)', async () => {
    const menu = await startDraft(staff, 'بعد إعادة التشغيل');
    await rig.t.close();
    rig.t = await startTasdeed({ dir, env: env() });
    const preview = await staff.press(buttons(menu)[0]!);
    assert.match(plain(preview.text), /^معاينة البث:\nبعد إعادة التشغيل\n/);
    await staff.press(buttons(preview).at(-1)!);
  });
});
