/**
 * Reminders across restarts after downtime (catch-up of what is still relevant, stale slots
 * skipped), and the scheduler that ticks hourly in TASDEED_TIMEZONE and once at start.
 *
 * Dates: 2036-11-25 ("D"); Asia/Damascus (UTC+3), send hour 10:00 = 07:00 UTC, offsets -3, 0, 3.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startScheduler } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/observability/logger.js';
import { waitFor } from '../support/harness.js';
import {
  billerAccount,
  followerOf,
  reminderRig,
  remindersTo,
  startOutside,
  type Outside,
  type ReminderRig,
} from './reminders-rig.js';

/** Waits for the at-start tick of the scheduler to finish its hour's run. */
async function startedTick(rig: ReminderRig, slot: string): Promise<void> {
  await waitFor(`the reminders run of ${slot}`, async () =>
    (await rig.jobRuns()).some((r) => r.slot === slot && r.finished),
  );
}

describe('downtime', () => {
  let outside: Outside;
  before(async () => {
    outside = await startOutside();
  });
  after(async () => {
    await outside.close();
  });

  it('catches up on the latest send time at start, once; a slot more than a day old is skipped', async () => {
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z');
    try {
      await rig.start();
      const onD = billerAccount(outside, '2036-11-28'); // -3 → sent at D 10:00
      const onD1 = billerAccount(outside, '2036-11-29'); // -3 → D+1 10:00
      const onD2 = billerAccount(outside, '2036-11-30'); // -3 → D+2 10:00
      const uD = await followerOf(rig, onD.account);
      const uD1 = await followerOf(rig, onD1.account);
      const uD2 = await followerOf(rig, onD2.account);
      rig.at('2036-11-25T06:00:00Z'); // 09:00: down until the next morning
      await rig.stop();

      rig.at('2036-11-26T06:00:00Z'); // D+1 09:00: D's 10:00 is less than a day old
      await rig.start({ scheduler: true });
      await startedTick(rig, '2036-11-26T09');
      await rig.settle();
      assert.deepEqual(remindersTo(outside, uD), [
        `تذكير: فاتورة الكهرباء ${onD.account} بقيمة 18750 ل.س تستحق في 28/11/2036.`,
      ]);
      assert.deepEqual(remindersTo(outside, uD1), []);

      // Restarting again within the hour, and the next hour's tick, send nothing more.
      rig.at('2036-11-26T06:20:00Z');
      await rig.stop();
      await rig.start({ scheduler: true });
      rig.at('2036-11-26T06:40:00Z');
      await rig.stop();
      rig.at('2036-11-26T06:50:00Z'); // down again, this time for two days
      rig.at('2036-11-27T08:00:00Z'); // D+2 11:00: D+1's send time is past, and D+2's too
      await rig.start({ scheduler: true });
      await startedTick(rig, '2036-11-27T11');
      await rig.settle();
      assert.equal(remindersTo(outside, uD).length, 1);
      assert.deepEqual(remindersTo(outside, uD1), [], "D+1's slot is stale: skipped");
      assert.deepEqual(remindersTo(outside, uD2), [
        `تذكير: فاتورة الكهرباء ${onD2.account} بقيمة 18750 ل.س تستحق في 30/11/2036.`,
      ]);
      assert.deepEqual(
        (await rig.rows()).map((r) => [r.account, r.status]),
        [
          [onD.account, 'sent'],
          [onD2.account, 'sent'],
        ],
      );
    } finally {
      await rig.close();
    }
  });

  it('a reminder still queued when its slot goes stale is dropped, not sent late', async () => {
    // Quiet 09-12 holds the 10:00 reminder; the process is down from 10:30 until D+1 13:00.
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z', { TASDEED_QUIET_HOURS: '9-12' });
    try {
      await rig.start();
      const held = billerAccount(outside, '2036-11-28');
      const uHeld = await followerOf(rig, held.account);
      rig.at('2036-11-25T07:00:00Z');
      const tick = await rig.t.tasdeed.reminders.tick();
      assert.equal(tick.status === 'done' && tick.planned, 1);
      rig.at('2036-11-25T07:30:00Z');
      await rig.stop();
      assert.deepEqual(
        (await rig.rows()).map((r) => r.status),
        ['queued'],
      );

      rig.at('2036-11-26T10:00:00Z'); // D+1 13:00
      await rig.start();
      const rows = await rig.settle();
      assert.deepEqual(
        rows.map((r) => [r.status, r.lastError]),
        [['skipped', 'stale: a later send time has passed']],
      );
      assert.deepEqual(remindersTo(outside, uHeld), []);
    } finally {
      await rig.close();
    }
  });
});

describe('the scheduler', () => {
  let outside: Outside;
  before(async () => {
    outside = await startOutside();
  });
  after(async () => {
    await outside.close();
  });

  it('registers the reminders hourly in TASDEED_TIMEZONE and ticks once at start', async () => {
    // Kolkata is UTC+5:30: its hours start at half past, UTC.
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z', { TASDEED_TIMEZONE: 'Asia/Kolkata' });
    try {
      const t = await rig.start({ scheduler: true });
      await startedTick(rig, '2036-11-25T10'); // 05:00 UTC is 10:30 in Kolkata
      const scheduler = t.tasdeed.scheduler;
      assert.ok(scheduler);
      const next = scheduler.nextRun('reminders');
      assert.ok(next);
      const wait = next.getTime() - Date.now();
      assert.ok(wait > 0 && wait <= 3_600_000, `next run in ${wait} ms`);
      assert.equal(next.getUTCMinutes(), 30);
      assert.equal(next.getUTCSeconds(), 0);
      const probe = scheduler.nextRun('recovery-probe');
      assert.ok(probe && probe.getTime() - Date.now() <= 60_000);
      assert.deepEqual(await rig.jobRuns(), [
        { slot: '2036-11-25T10', owner: (await rig.jobRuns())[0]!.owner, finished: true },
      ]);
    } finally {
      await rig.close();
    }
  });

  it('startScheduler runs a job at start once, joins a run in progress, and waits on stop', async () => {
    let runs = 0;
    let woundUp = false;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const scheduler = startScheduler({
      timezone: 'Asia/Damascus',
      logger: createLogger({ level: 'silent' }),
      jobs: [
        {
          name: 'job',
          cron: '0 * * * *',
          runAtStart: true,
          run: async () => {
            runs += 1;
            await gate;
            return runs;
          },
        },
        { name: 'quiet', cron: '0 * * * *', run: () => Promise.resolve('quiet ran') },
        {
          // Runs until the scheduler stops: stop() must tell it to, then wait for it.
          name: 'long',
          cron: '0 0 1 1 *',
          runAtStart: true,
          run: (signal) =>
            new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                woundUp = true;
                resolve('wound up');
              });
            }),
        },
      ],
    });
    try {
      const joined = scheduler.runNow('job'); // the at-start run is still going
      assert.equal(runs, 1);
      release();
      assert.equal(await joined, 1);
      assert.equal(await scheduler.runNow('job'), 2);
      assert.equal(await scheduler.runNow('quiet'), 'quiet ran');
      await assert.rejects(scheduler.runNow('nope'), /no job named nope/);
      const next = scheduler.nextRun('job');
      assert.ok(next);
      assert.equal(next.getUTCMinutes(), 0);
      assert.equal(scheduler.nextRun('nope'), null);
      assert.equal(woundUp, false);
    } finally {
      await scheduler.stop();
    }
    assert.equal(runs, 2);
    assert.equal(woundUp, true);
  });

  it('a tick cut short by a stop skips the rest of the refresh but still plans', async () => {
    const rig = reminderRig(outside, '2036-11-25T05:00:00Z');
    try {
      await rig.start();
      const a = billerAccount(outside, '2036-11-28');
      const u = await followerOf(rig, a.account);
      rig.at('2036-11-25T07:00:00Z');
      const asked = outside.biller.requestsTo('GET', `/accounts/${a.account}/`).length;
      const tick = await rig.t.tasdeed.reminders.tick(AbortSignal.abort());
      assert.deepEqual(tick, {
        status: 'done',
        slot: '2036-11-25T10',
        sendDate: '2036-11-25',
        refreshed: 0,
        planned: 1,
      });
      assert.equal(outside.biller.requestsTo('GET', `/accounts/${a.account}/`).length, asked);
      assert.deepEqual(await rig.jobRuns(), [
        { slot: '2036-11-25T10', owner: (await rig.jobRuns())[0]!.owner, finished: true },
      ]);
      await rig.settle();
      assert.equal(remindersTo(outside, u).length, 1);
    } finally {
      await rig.close();
    }
  });
});
