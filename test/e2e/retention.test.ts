/**
 * The retention job in the running app: once a day however many instances share the database
 * and however often they tick, and once at start; TASDEED_RETENTION_DAYS decides what is old.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectTo, type Connection } from '../support/db.js';
import {
  FakeClock,
  removeTestDir,
  startTasdeed,
  waitFor,
  type Running,
} from '../support/harness.js';

const DAY = 86_400_000;

describe('retention job across instances', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tasdeed-retention-'));
  // 02:00 in Damascus: the local date is the slot.
  const clock = new FakeClock(new Date('2031-03-09T23:00:00.000Z'));
  const running: Running[] = [];
  let db: Connection;

  const start = async (scheduler: boolean) => {
    const t = await startTasdeed({
      dir,
      clock,
      scheduler,
      env: { TASDEED_RETENTION_DAYS: '30' },
    });
    running.push(t);
    return t;
  };

  before(async () => {
    await start(false);
    await start(false);
    db = connectTo(running[0]!.databaseUrl);
  });
  after(async () => {
    for (const t of running) await t.close();
    await db?.close();
    await removeTestDir(dir);
  });

  async function inbound(key: string, processedDaysAgo: number): Promise<void> {
    const at = new Date(clock.now().getTime() - processedDaysAgo * DAY);
    await db.client.smsInbound.create({
      data: {
        gateway: 'twilio',
        dedupeKey: `twilio:${key}`,
        fromAddress: '+963944000009',
        text: 'HELP',
        recordedAt: at,
        processedAt: at,
      },
    });
  }

  const left = async () =>
    (await db.client.smsInbound.findMany({ orderBy: { id: 'asc' } })).map((r) => r.dedupeKey);

  const runs = async () =>
    (
      await db.client.jobRun.findMany({ where: { job: 'retention' }, orderBy: { slot: 'asc' } })
    ).map((r) => [r.slot, r.finishedAt !== null]);

  it('prunes once a day when two instances tick at once, again and again', async () => {
    await inbound('SMold', 31);
    await inbound('SMrecent', 29);
    const [a, b] = running;
    const tickAll = () => Promise.all([a!, b!, a!, b!].map((t) => t.tasdeed.retention.tick()));

    const first = await tickAll();
    assert.deepEqual(first.map((r) => r.status).sort(), ['done', 'taken', 'taken', 'taken']);
    const done = first.find((r) => r.status === 'done');
    assert.equal(done?.status === 'done' && done.deleted['sms-inbound'], 1);
    assert.deepEqual(await left(), ['twilio:SMrecent'], 'older than 30 days: gone');

    // Later the same local day: nothing runs.
    clock.advance(20 * 3_600_000);
    assert.deepEqual(
      (await tickAll()).map((r) => r.status),
      ['taken', 'taken', 'taken', 'taken'],
    );

    // The next local day: one run again, which finds the row that has aged past 30 days.
    clock.advance(2 * DAY);
    const next = await tickAll();
    assert.deepEqual(next.map((r) => r.status).sort(), ['done', 'taken', 'taken', 'taken']);
    assert.deepEqual(await left(), []);
    assert.deepEqual(await runs(), [
      ['2031-03-10', true],
      ['2031-03-12', true],
    ]);
  });

  it('runs at start (catching up on a missed day), as a scheduled job', async () => {
    clock.advance(DAY);
    await inbound('SMstart', 31);
    await start(true);
    await waitFor('the retention run of the day', async () =>
      (await runs()).some(([slot, finished]) => slot === '2031-03-13' && finished),
    );
    assert.deepEqual(await left(), []);
    assert.ok(running[2]!.tasdeed.scheduler?.nextRun('retention'), 'scheduled daily');
  });
});
