/**
 * Due-date reminders end to end (docs/design.md §7): a fake clock, ticks driven by the test, real
 * SQLite, followers on the local Bot API stand-in, bills at the local biller stand-in.
 *
 * Dates: 2036-11-25 ("D"). Asia/Damascus is UTC+3 all year: 10:00 there is 07:00 UTC.
 * Default offsets -3, 0, 3: at D 10:00 the bills due on 11-28, 11-25 and 11-22 are reminded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buttons } from '../support/telegram.js';
import {
  billerAccount,
  followerOf,
  reminderRig,
  remindersTo,
  startOutside,
  type Outside,
} from './reminders-rig.js';

describe('reminders at the offsets and the send hour', () => {
  let outside: Outside;
  before(async () => {
    outside = await startOutside();
  });
  after(async () => {
    await outside.close();
  });

  it('sends nothing before the send hour, then before/today/overdue at it, once', async () => {
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z');
    try {
      await rig.start();
      const early = billerAccount(outside, '2036-11-28');
      const today = billerAccount(outside, '2036-11-25');
      const late = billerAccount(outside, '2036-11-22');
      const none = billerAccount(outside, '2036-11-26'); // on no slot of D or D-1
      const uEarly = await followerOf(rig, early.account);
      const uToday = await followerOf(rig, today.account);
      const uLate = await followerOf(rig, late.account);
      const uNone = await followerOf(rig, none.account);
      const everyone = [uEarly, uToday, uLate, uNone];

      rig.at('2036-11-25T06:59:59Z'); // 09:59:59 in Damascus
      const first = await rig.t.tasdeed.reminders.tick();
      assert.equal(first.status, 'done');
      assert.equal(first.status === 'done' && first.sendDate, '2036-11-24');
      assert.equal(first.status === 'done' && first.planned, 0);
      await rig.settle();
      for (const u of everyone) assert.deepEqual(remindersTo(outside, u), []);

      rig.at('2036-11-25T07:00:00Z'); // 10:00 in Damascus
      const due = await rig.t.tasdeed.reminders.tick();
      assert.deepEqual(due, {
        status: 'done',
        slot: '2036-11-25T10',
        sendDate: '2036-11-25',
        refreshed: 3, // the accounts with a bill on a slot, asked again at the send time
        planned: 3,
      });
      await rig.settle();
      assert.deepEqual(remindersTo(outside, uEarly), [
        `تذكير: فاتورة الكهرباء ${early.account} بقيمة 18750 ل.س تستحق في 28/11/2036.`,
      ]);
      assert.deepEqual(remindersTo(outside, uToday), [
        `تذكير: فاتورة الكهرباء ${today.account} بقيمة 18750 ل.س تستحق اليوم.`,
      ]);
      assert.deepEqual(remindersTo(outside, uLate), [
        `فاتورة الكهرباء ${late.account} بقيمة 18750 ل.س تأخرت عن موعدها في 22/11/2036.`,
      ]);
      assert.deepEqual(remindersTo(outside, uNone), []);
      // The Telegram reminder offers to pay.
      const last = outside.telegram.delivered(uEarly.chatId).at(-1);
      assert.ok(last);
      assert.deepEqual(buttons(last), [`PAY electricity ${early.account}`]);

      // The same hour again does nothing; the next hour plans nothing new and asks the biller
      // nothing more about accounts it asked at this send time.
      rig.at('2036-11-25T07:30:00Z');
      assert.equal((await rig.t.tasdeed.reminders.tick()).status, 'taken');
      const asked = outside.biller.requestsTo('GET', '/accounts/').length;
      for (const at of ['2036-11-25T08:00:00Z', '2036-11-25T09:00:00Z', '2036-11-25T15:00:00Z']) {
        rig.at(at);
        const next = await rig.t.tasdeed.reminders.tick();
        assert.equal(next.status === 'done' && next.planned, 0);
        assert.equal(next.status === 'done' && next.refreshed, 0, at);
      }
      assert.equal(outside.biller.requestsTo('GET', '/accounts/').length, asked);
      await rig.settle();
      for (const u of everyone.slice(0, 3)) assert.equal(remindersTo(outside, u).length, 1);
      assert.equal((await rig.rows()).length, 3);
    } finally {
      await rig.close();
    }
  });

  it('follows TASDEED_REMINDER_OFFSETS, TASDEED_SEND_HOUR and TASDEED_TIMEZONE', async () => {
    // Berlin is UTC+1 in November: 18:00 there is 17:00 UTC (and 20:00 in Damascus).
    const rig = reminderRig(outside, '2036-11-25T12:00:00Z', {
      TASDEED_REMINDER_OFFSETS: '2,-1',
      TASDEED_SEND_HOUR: '18',
      TASDEED_TIMEZONE: 'Europe/Berlin',
    });
    try {
      await rig.start();
      const minus1 = billerAccount(outside, '2036-11-26');
      const plus2 = billerAccount(outside, '2036-11-23');
      const minus3 = billerAccount(outside, '2036-11-28'); // a default offset, not configured
      const zero = billerAccount(outside, '2036-11-27'); // -2: not configured either
      const uMinus1 = await followerOf(rig, minus1.account);
      const uPlus2 = await followerOf(rig, plus2.account);
      const uMinus3 = await followerOf(rig, minus3.account);
      const uZero = await followerOf(rig, zero.account);

      rig.at('2036-11-25T16:59:00Z'); // 17:59 in Berlin
      const before = await rig.t.tasdeed.reminders.tick();
      assert.equal(before.status === 'done' && before.sendDate, '2036-11-24');
      assert.equal(before.status === 'done' && before.planned, 0);

      rig.at('2036-11-25T17:00:00Z'); // 18:00 in Berlin
      const at = await rig.t.tasdeed.reminders.tick();
      assert.equal(at.status === 'done' && at.slot, '2036-11-25T18');
      assert.equal(at.status === 'done' && at.planned, 2);
      await rig.settle();
      assert.deepEqual(remindersTo(outside, uMinus1), [
        `تذكير: فاتورة الكهرباء ${minus1.account} بقيمة 18750 ل.س تستحق في 26/11/2036.`,
      ]);
      assert.deepEqual(remindersTo(outside, uPlus2), [
        `فاتورة الكهرباء ${plus2.account} بقيمة 18750 ل.س تأخرت عن موعدها في 23/11/2036.`,
      ]);
      assert.deepEqual(remindersTo(outside, uMinus3), []);
      assert.deepEqual(remindersTo(outside, uZero), []);
      assert.deepEqual(
        (await rig.rows()).map((r) => [r.account, r.offset]),
        [
          [minus1.account, -1],
          [plus2.account, 2],
        ],
      );
    } finally {
      await rig.close();
    }
  });
});

describe('what stops a reminder', () => {
  let outside: Outside;
  before(async () => {
    outside = await startOutside();
  });
  after(async () => {
    await outside.close();
  });

  it('a bill paid elsewhere, or no longer listed, is not planned (refreshed before planning)', async () => {
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z');
    try {
      await rig.start();
      const paid = billerAccount(outside, '2036-11-28');
      const gone = billerAccount(outside, '2036-11-28');
      const kept = billerAccount(outside, '2036-11-28');
      const uPaid = await followerOf(rig, paid.account);
      const uGone = await followerOf(rig, gone.account);
      const uKept = await followerOf(rig, kept.account);

      rig.at('2036-11-25T06:30:00Z'); // 09:30: paid at a counter
      outside.biller.markPaid(paid.billId);
      const listed = outside.biller.getAccount(gone.account);
      assert.ok(listed);
      listed.bills = [];
      // Followed at 09:40 (the biller asked then), paid at 09:50: asked again at 10:00 all the same.
      rig.at('2036-11-25T06:40:00Z');
      const late = billerAccount(outside, '2036-11-28');
      const uLate = await followerOf(rig, late.account);
      rig.at('2036-11-25T06:50:00Z');
      outside.biller.markPaid(late.billId);

      rig.at('2036-11-25T07:00:00Z');
      const tick = await rig.t.tasdeed.reminders.tick();
      assert.equal(tick.status === 'done' && tick.planned, 1);
      await rig.settle();
      assert.equal(remindersTo(outside, uKept).length, 1);
      assert.deepEqual(remindersTo(outside, uPaid), []);
      assert.deepEqual(remindersTo(outside, uGone), []);
      assert.deepEqual(remindersTo(outside, uLate), []);
      assert.deepEqual(
        (await rig.rows()).map((r) => r.account),
        [kept.account],
      );
    } finally {
      await rig.close();
    }
  });

  it('quiet hours hold reminders; what changed meanwhile is checked just before sending', async () => {
    // Quiet 09:00-12:00 local: the 10:00 reminders are planned, and held until 12:00.
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z', { TASDEED_QUIET_HOURS: '9-12' });
    try {
      await rig.start();
      const names = ['kept', 'paid', 'gone', 'off', 'removed', 'stopped'] as const;
      const accounts = Object.fromEntries(
        names.map((n) => [n, billerAccount(outside, '2036-11-28')]),
      ) as Record<(typeof names)[number], { account: string; billId: string }>;
      const users = Object.fromEntries(
        await Promise.all(names.map(async (n) => [n, await followerOf(rig, accounts[n].account)])),
      ) as Record<(typeof names)[number], Awaited<ReturnType<typeof followerOf>>>;

      rig.at('2036-11-25T07:00:00Z');
      const tick = await rig.t.tasdeed.reminders.tick();
      assert.equal(tick.status === 'done' && tick.planned, 6);
      // The bulk pool claims none of them in quiet hours: untouched, not even deferred.
      await rig.t.tasdeed.dispatcher.drain();
      let rows = await rig.rows();
      assert.equal(rows.length, 6);
      for (const r of rows) {
        assert.equal(r.status, 'queued');
        assert.equal(r.attempts, 0);
        assert.deepEqual(r.nextAttemptAt, new Date('2036-11-25T07:00:00Z'));
      }
      for (const n of names) assert.deepEqual(remindersTo(outside, users[n]), []);

      // Meanwhile: paid at a counter, withdrawn by the biller, reminders off, unfollowed, STOP.
      rig.at('2036-11-25T07:30:00Z');
      outside.biller.markPaid(accounts.paid.billId);
      const gone = outside.biller.getAccount(accounts.gone.account);
      assert.ok(gone);
      gone.bills = [];
      for (const [n, text] of [
        ['off', 'تذكير إيقاف'],
        ['removed', `REMOVE elec ${accounts.removed.account}`],
        ['stopped', 'STOP'],
      ] as const) {
        users[n].skipAll();
        await users[n].say(text);
      }
      rig.at('2036-11-25T08:59:59Z'); // 11:59:59, still quiet
      await rig.t.tasdeed.dispatcher.drain();
      for (const r of await rig.rows()) assert.equal(r.status, 'queued');
      for (const n of names) assert.deepEqual(remindersTo(outside, users[n]), []);

      rig.at('2036-11-25T09:00:00Z'); // 12:00: quiet hours are over
      rows = await rig.settle();
      assert.equal(remindersTo(outside, users.kept).length, 1);
      for (const n of names.slice(1)) assert.deepEqual(remindersTo(outside, users[n]), [], n);
      const outcome = (n: (typeof names)[number]) => {
        const row = rows.find((r) => r.account === accounts[n].account);
        return [row?.status, row?.lastError];
      };
      assert.deepEqual(outcome('kept'), ['sent', null]);
      assert.deepEqual(outcome('paid'), ['skipped', 'bill paid']);
      assert.deepEqual(outcome('gone'), ['skipped', 'bill paid']);
      assert.deepEqual(outcome('off'), ['skipped', 'reminders off']);
      assert.deepEqual(outcome('removed'), ['skipped', 'account no longer followed']);
      assert.deepEqual(outcome('stopped'), ['skipped', 'recipient opted out']);
    } finally {
      await rig.close();
    }
  });

  it('an account the biller no longer knows (404 just before sending) gets no reminder', async () => {
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z', { TASDEED_QUIET_HOURS: '9-12' });
    try {
      await rig.start();
      const closed = billerAccount(outside, '2036-11-28');
      const u = await followerOf(rig, closed.account);
      rig.at('2036-11-25T07:00:00Z');
      const tick = await rig.t.tasdeed.reminders.tick();
      assert.equal(tick.status === 'done' && tick.planned, 1);
      rig.at('2036-11-25T09:00:00Z'); // 12:00: the cached bill is two hours old, so it asks
      outside.biller.failNext(1, 404, { error: 'unknown account' });
      const rows = await rig.settle();
      assert.deepEqual(
        rows.map((r) => [r.status, r.lastError]),
        [['skipped', 'account unknown to the biller']],
      );
      assert.deepEqual(remindersTo(outside, u), []);
    } finally {
      await rig.close();
    }
  });

  it('REMIND OFF stops them and ON brings them back; STOP and unfollowing leave nothing planned', async () => {
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z');
    try {
      await rig.start();
      const [a, b, c, d] = Array.from({ length: 4 }, () => billerAccount(outside, '2036-11-28'));
      const uOff = await followerOf(rig, a!.account);
      const uStop = await followerOf(rig, b!.account);
      const uGone = await followerOf(rig, c!.account);
      const uOn = await followerOf(rig, d!.account);
      assert.match((await uOff.say('تذكير إيقاف')).text, /التذكيرات متوقفة/);
      await uStop.say('STOP');
      await uGone.say(`REMOVE elec ${c!.account}`);

      rig.at('2036-11-25T07:00:00Z');
      const tick = await rig.t.tasdeed.reminders.tick();
      assert.equal(tick.status === 'done' && tick.planned, 1);
      await rig.settle();
      assert.equal(remindersTo(outside, uOn).length, 1);
      for (const u of [uOff, uStop, uGone]) assert.deepEqual(remindersTo(outside, u), []);

      // Back on at 10:30: the 11:00 tick plans today's reminder for them (once).
      rig.at('2036-11-25T07:30:00Z');
      uOff.skipAll();
      assert.match((await uOff.say('REMIND ON')).text, /التذكيرات مفعلة|مفعّلة|تعمل/);
      rig.at('2036-11-25T08:00:00Z');
      const again = await rig.t.tasdeed.reminders.tick();
      assert.equal(again.status === 'done' && again.planned, 1);
      await rig.settle();
      assert.deepEqual(remindersTo(outside, uOff), [
        `تذكير: فاتورة الكهرباء ${a!.account} بقيمة 18750 ل.س تستحق في 28/11/2036.`,
      ]);
      assert.equal(remindersTo(outside, uOn).length, 1);
      for (const u of [uStop, uGone]) assert.deepEqual(remindersTo(outside, u), []);
    } finally {
      await rig.close();
    }
  });
});
