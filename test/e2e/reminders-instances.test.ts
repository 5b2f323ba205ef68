/**
 * One reminder per (bill, offset, subscriber) however many ticks repeat or overlap, in one
 * process and in two processes sharing the database, each with its dispatcher running.
 *
 * Dates: 2036-11-25 ("D"); Asia/Damascus (UTC+3), send hour 10:00 = 07:00 UTC, offsets -3, 0, 3.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TickResult } from '../../src/core/reminders/reminder.service.js';
import { ChildInstance } from './reminders-instance.js';
import {
  billerAccount,
  followerOf,
  reminderRig,
  remindersTo,
  startOutside,
  type Outside,
} from './reminders-rig.js';

describe('one reminder per bill, offset and subscriber', () => {
  let outside: Outside;
  before(async () => {
    outside = await startOutside();
  });
  after(async () => {
    await outside.close();
  });

  it('however many ticks overlap, in one process or two sharing the database', async () => {
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z');
    let other: ChildInstance | null = null;
    try {
      await rig.start();
      // A second instance, in its own process, on the same database and the same Bot API.
      other = await ChildInstance.spawn(rig.place(), '2036-11-25T05:00:00Z');
      const a = billerAccount(outside, '2036-11-28');
      const b = billerAccount(outside, '2036-11-25');
      const both = await followerOf(rig, a.account, b.account); // two bills: two reminders
      const also = await followerOf(rig, a.account); // the same bill, another subscriber

      const tickBoth = async (at: string, n: number) => {
        rig.at(at);
        await other?.send({ at });
        const [here, there] = await Promise.all([
          Promise.all(Array.from({ length: n }, () => rig.t.tasdeed.reminders.tick())),
          other?.send({ tick: n }),
        ]);
        return [...here, ...((there?.ticks ?? []) as TickResult[])];
      };
      const ticks = await tickBoth('2036-11-25T07:00:00Z', 4);
      assert.deepEqual(ticks.map((r) => r.status).sort(), [
        'done',
        'taken',
        'taken',
        'taken',
        'taken',
        'taken',
        'taken',
        'taken',
      ]);
      const done = ticks.find((r) => r.status === 'done');
      assert.equal(done?.status === 'done' && done.planned, 3);
      // Both dispatchers send; everything is handled before the clock jumps an hour (a lease
      // that expires under a send in flight would let the other instance send it again).
      await Promise.all([other.send({ drain: true }), rig.settle()]);
      await rig.settle();

      // Later hours plan the same send time again: the keys make that write nothing.
      for (const at of ['2036-11-25T08:00:00Z', '2036-11-25T09:00:00Z']) {
        const again = await tickBoth(at, 2);
        assert.deepEqual(again.map((r) => (r.status === 'done' ? r.planned : r.status)).sort(), [
          0,
          'taken',
          'taken',
          'taken',
        ]);
      }
      await Promise.all([other.send({ drain: true }), rig.settle()]);
      const rows = await rig.settle();
      assert.equal(rows.length, 3);
      assert.ok(rows.every((r) => r.status === 'sent'));
      assert.equal(remindersTo(outside, both).length, 2);
      assert.equal(remindersTo(outside, also).length, 1);
      assert.equal(
        outside.telegram
          .callsOf('sendMessage')
          .filter((c) => [both.chatId, also.chatId].includes(Number(c.params.chat_id)))
          .filter((c) => /^تذكير:/.test(String(c.params.text))).length,
        3,
        'three calls to the Bot API, no duplicate',
      );
      assert.deepEqual(
        (await rig.jobRuns()).map((r) => [r.slot, r.finished]),
        [
          ['2036-11-25T10', true],
          ['2036-11-25T11', true],
          ['2036-11-25T12', true],
        ],
      );
    } finally {
      await other?.stop();
      await rig.close();
    }
  });
});
