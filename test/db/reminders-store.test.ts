/**
 * The store side of reminders on the test database (SQLite, or PostgreSQL when
 * TEST_DATABASE_URL is set): job runs (one per job and slot, a stale one taken over), planning
 * (one row per bill, offset and follower, to the preferred reachable identity, never twice) and
 * the accounts refreshed before planning.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { IdentityChannel } from '../../src/core/domain.js';
import { qirsh } from '../../src/core/money.js';
import type { BillRecord } from '../../src/core/ports/store.port.js';
import type { PrismaStore } from '../../src/db/prisma-store.js';
import { createTestStore, type TestStore } from '../support/db.js';

const NOW = new Date('2026-11-25T07:00:00Z');
const HOUR = 3_600_000;

let t: TestStore;
let store: PrismaStore;

beforeEach(async () => {
  t = await createTestStore();
  store = t.store;
});
afterEach(async () => {
  await t.close();
});

function bill(account: string, dueDate: string, over: Partial<BillRecord> = {}): BillRecord {
  return {
    billerId: 'electricity',
    billId: `B-${account}-${dueDate}`,
    account,
    period: '9-10',
    amountMinor: qirsh(1_875_000),
    currency: 'SYP',
    dueDate,
    status: 'unpaid',
    fetchedAt: NOW,
    ...over,
  };
}

async function account(number: string, bills: BillRecord[], fetchedAt = NOW): Promise<void> {
  await store.saveAccountSnapshot({
    billerId: 'electricity',
    account: number,
    holder: 'محمد خالد الأحمد',
    governorate: 'DAM',
    fetchedAt,
    bills: bills.map((b) => ({ ...b, fetchedAt })),
  });
}

/** A subscriber with one identity on `channel`, following the accounts. */
async function follower(channel: IdentityChannel, address: string, ...accounts: string[]) {
  const { identity } = await store.ensureIdentity(channel, address, 'ar');
  for (const a of accounts)
    assert.equal(await store.followUpTo(identity.subscriberId, 'electricity', a, 10), 'added');
  return identity;
}

async function reminderRows() {
  const rows = await t.client.outboxItem.findMany({
    where: { kind: 'reminder' },
    orderBy: { id: 'asc' },
  });
  return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> }));
}

const slots = (...pairs: Array<[string, number]>) =>
  pairs.map(([dueDate, offset]) => ({ dueDate, offset }));

describe('job runs', () => {
  it('one claim per job and slot; a finished run is never taken again', async () => {
    assert.equal(await store.claimJobRun('reminders', '2026-11-25T10', 'a', NOW, HOUR), true);
    assert.equal(await store.claimJobRun('reminders', '2026-11-25T10', 'b', NOW, HOUR), false);
    assert.equal(await store.claimJobRun('reminders', '2026-11-25T10', 'a', NOW, HOUR), false);
    // Another slot and another job are separate runs.
    assert.equal(await store.claimJobRun('reminders', '2026-11-25T11', 'b', NOW, HOUR), true);
    assert.equal(await store.claimJobRun('other', '2026-11-25T10', 'b', NOW, HOUR), true);

    await store.finishJobRun('reminders', '2026-11-25T10', 'a', NOW, { planned: 3 });
    const later = new Date(NOW.getTime() + 10 * HOUR);
    assert.equal(await store.claimJobRun('reminders', '2026-11-25T10', 'b', later, HOUR), false);
    const row = await t.client.jobRun.findUnique({
      where: { job_slot: { job: 'reminders', slot: '2026-11-25T10' } },
    });
    assert.equal(row?.owner, 'a');
    assert.deepEqual(row?.finishedAt, NOW);
    assert.deepEqual(JSON.parse(row?.result ?? 'null'), { planned: 3 });
  });

  it('an unfinished run is taken over once it is stale, and only its new owner finishes it', async () => {
    assert.equal(await store.claimJobRun('reminders', 'S', 'a', NOW, HOUR), true);
    const soon = new Date(NOW.getTime() + HOUR - 1);
    assert.equal(await store.claimJobRun('reminders', 'S', 'b', soon, HOUR), false);
    const late = new Date(NOW.getTime() + HOUR + 1);
    assert.equal(await store.claimJobRun('reminders', 'S', 'b', late, HOUR), true);
    assert.equal(await store.claimJobRun('reminders', 'S', 'c', late, HOUR), false);
    // The first owner, back from the dead, does not mark b's run finished.
    await store.finishJobRun('reminders', 'S', 'a', late, 'a');
    let row = await t.client.jobRun.findUnique({
      where: { job_slot: { job: 'reminders', slot: 'S' } },
    });
    assert.equal(row?.owner, 'b');
    assert.equal(row?.finishedAt, null);
    await store.finishJobRun('reminders', 'S', 'b', late, 'b');
    row = await t.client.jobRun.findUnique({
      where: { job_slot: { job: 'reminders', slot: 'S' } },
    });
    assert.deepEqual(row?.finishedAt, late);
  });

  it('of many claims at once on two connections, exactly one wins', async () => {
    const { store: other, close } = t.connect();
    try {
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? other : store).claimJobRun('reminders', 'race', `o${i}`, NOW, HOUR),
        ),
      );
      assert.equal(claims.filter(Boolean).length, 1);
    } finally {
      await close();
    }
  });
});

describe('planReminders', () => {
  it('writes one row per unpaid due bill and follower, keyed and addressed, with its offset', async () => {
    await account('1000101', [bill('1000101', '2026-11-28')]);
    await account('1000102', [bill('1000102', '2026-11-25')]);
    await account('1000103', [bill('1000103', '2026-11-22')]);
    // Not due on a slot date, and paid: no row.
    await account('1000104', [
      bill('1000104', '2026-11-29'),
      bill('1000104', '2026-11-28', { billId: 'paid-1', status: 'paid' }),
    ]);
    const a = await follower('telegram', '7001', '1000101', '1000102', '1000103', '1000104');
    const b = await follower('sms', '+963944000001', '1000101');

    const planned = await store.planReminders({
      slots: slots(['2026-11-28', -3], ['2026-11-25', 0], ['2026-11-22', 3]),
      now: NOW,
    });
    assert.equal(planned, 4);
    const rows = await reminderRows();
    assert.deepEqual(
      rows.map((r) => [r.dedupeKey, r.identityId]).sort(),
      [
        [`rem:electricity:B-1000101-2026-11-28:-3:${a.subscriberId}`, a.id],
        [`rem:electricity:B-1000101-2026-11-28:-3:${b.subscriberId}`, b.id],
        [`rem:electricity:B-1000102-2026-11-25:0:${a.subscriberId}`, a.id],
        [`rem:electricity:B-1000103-2026-11-22:3:${a.subscriberId}`, a.id],
      ].sort(),
    );
    for (const r of rows) {
      assert.equal(r.lane, 'bulk');
      assert.equal(r.status, 'queued');
      assert.equal(r.urgent, false);
      assert.equal(r.attempts, 0);
      assert.deepEqual(r.nextAttemptAt, NOW);
      assert.deepEqual(r.createdAt, NOW);
    }
    const first = rows.find((r) => r.dedupeKey?.includes('1000103'));
    assert.deepEqual(first?.payload, {
      billerId: 'electricity',
      billId: 'B-1000103-2026-11-22',
      account: '1000103',
      offset: 3,
    });
  });

  it('planning again writes nothing, however often and however concurrently', async () => {
    await account('1000101', [bill('1000101', '2026-11-28')]);
    await follower('telegram', '7001', '1000101');
    await follower('telegram', '7002', '1000101');
    const plan = { slots: slots(['2026-11-28', -3]), now: NOW };
    const { store: other, close } = t.connect();
    try {
      const counts = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).planReminders(plan)),
      );
      assert.equal(
        counts.reduce((x, y) => x + y, 0),
        2,
      );
    } finally {
      await close();
    }
    assert.equal(await store.planReminders(plan), 0);
    assert.equal((await reminderRows()).length, 2);
  });

  it('leaves out subscribers with reminders off, opted-out identities and unfollowed accounts', async () => {
    await account('1000101', [bill('1000101', '2026-11-28')]);
    const off = await follower('telegram', '7001', '1000101');
    await store.updateSubscriber(off.subscriberId, { remindersEnabled: false });
    const stopped = await follower('sms', '+963944000002', '1000101');
    await store.setOptedOut(stopped.id, true, NOW);
    const gone = await follower('telegram', '7003', '1000101');
    await store.unfollow(gone.subscriberId, 'electricity', '1000101');
    const on = await follower('telegram', '7004', '1000101');

    assert.equal(await store.planReminders({ slots: slots(['2026-11-28', -3]), now: NOW }), 1);
    assert.deepEqual(
      (await reminderRows()).map((r) => r.identityId),
      [on.id],
    );
  });

  it('prefers Telegram, then SMS, then the sandbox, skipping an opted-out identity', async () => {
    await account('1000101', [bill('1000101', '2026-11-28')]);
    const sms = await follower('sms', '+963944000003', '1000101');
    const add = (channel: IdentityChannel, address: string) =>
      t.client.identity.create({
        data: { id: randomUUID(), subscriberId: sms.subscriberId, channel, address },
      });
    await add('sandbox-sms', 'x1');
    const tg = await add('telegram', '7005');
    const plan = (offset: number) =>
      store.planReminders({ slots: slots(['2026-11-28', offset]), now: NOW });

    await plan(-3);
    await store.setOptedOut(tg.id, true, NOW);
    await plan(-2);
    await store.setOptedOut(sms.id, true, NOW);
    await plan(-1);
    const sandbox = await store.findIdentity('sandbox-sms', 'x1');
    await store.setOptedOut(sandbox?.id ?? '', true, NOW);
    assert.equal(await plan(0), 0, 'nobody reachable: no row');
    assert.deepEqual(
      (await reminderRows()).map((r) => r.identityId),
      [tg.id, sms.id, sandbox?.id],
    );
  });

  it('leaves out a bill with a payment through us open or succeeded, not a failed one', async () => {
    await account('1000101', [bill('1000101', '2026-11-28')]);
    await account('1000102', [bill('1000102', '2026-11-28')]);
    const f = await follower('telegram', '7006', '1000101', '1000102');
    const pay = (account: string, status: 'pending' | 'failed') =>
      store.createPayment({
        id: randomUUID(),
        subscriberId: f.subscriberId,
        identityId: f.id,
        billerId: 'electricity',
        account,
        billId: `B-${account}-2026-11-28`,
        amountMinor: qirsh(1_875_000),
        currency: 'SYP',
        channelId: 'wallet',
        payerAddress: '+963944000004',
        status,
        openKey: status === 'pending' ? `electricity:B-${account}-2026-11-28` : null,
        deadlineAt: new Date(NOW.getTime() + HOUR),
      });
    await pay('1000101', 'pending');
    await pay('1000102', 'failed');
    assert.equal(await store.planReminders({ slots: slots(['2026-11-28', -3]), now: NOW }), 1);
    assert.deepEqual(
      (await reminderRows()).map((r) => r.payload.account),
      ['1000102'],
    );
    assert.equal(
      (await store.activePaymentForBill('electricity', 'B-1000101-2026-11-28'))?.status,
      'pending',
    );
    assert.equal(await store.activePaymentForBill('electricity', 'B-1000102-2026-11-28'), null);
  });

  it('a bill the biller no longer lists is paid, and planned no more', async () => {
    await account('1000101', [bill('1000101', '2026-11-28'), bill('1000101', '2026-12-28')]);
    await follower('telegram', '7007', '1000101');
    const later = new Date(NOW.getTime() + HOUR);
    await account('1000101', [bill('1000101', '2026-12-28')], later);
    const gone = await store.getBill('electricity', 'B-1000101-2026-11-28');
    assert.equal(gone?.status, 'paid');
    assert.deepEqual(gone?.fetchedAt, later);
    assert.equal(
      await store.planReminders({
        slots: slots(['2026-11-28', 0], ['2026-12-28', -33]),
        now: later,
      }),
      1,
    );
    assert.deepEqual(
      (await reminderRows()).map((r) => r.payload.billId),
      ['B-1000101-2026-12-28'],
    );
  });
});

describe('reminderRefreshCandidates', () => {
  it('names accounts with a bill due on a slot date not fetched since the cut-off, and stale ones', async () => {
    const cut = NOW;
    const before = new Date(NOW.getTime() - 1);
    const dayOld = new Date(NOW.getTime() - 25 * HOUR);
    await account('1000101', [bill('1000101', '2026-11-28')], before); // due, old: yes
    await account('1000102', [bill('1000102', '2026-11-28')], NOW); // due, fresh: no
    await account('1000103', [bill('1000103', '2026-11-29')], before); // not due: no
    await account('1000104', [bill('1000104', '2026-11-29')], dayOld); // stale: yes
    await account('1000105', [bill('1000105', '2026-11-28', { status: 'paid' })], before); // paid
    await account('1000106', [bill('1000106', '2026-11-28')], before); // reminders off
    await follower('telegram', '7008', '1000101', '1000102', '1000103', '1000104', '1000105');
    await follower('telegram', '7009', '1000101', '1000107'); // 1000107: never fetched: yes
    const off = await follower('telegram', '7010', '1000106');
    await store.updateSubscriber(off.subscriberId, { remindersEnabled: false });

    const query = {
      dueDates: ['2026-11-28', '2026-11-25'],
      checkedBefore: cut,
      staleBefore: new Date(NOW.getTime() - 24 * HOUR),
      limit: 100,
    };
    const found = await store.reminderRefreshCandidates(query);
    assert.deepEqual(found.map((a) => a.account).sort(), ['1000101', '1000104', '1000107']);
    assert.equal((await store.reminderRefreshCandidates({ ...query, limit: 2 })).length, 2);
    assert.deepEqual(
      (await store.reminderRefreshCandidates({ ...query, dueDates: [] }))
        .map((a) => a.account)
        .sort(),
      ['1000104', '1000107'],
    );
  });

  it('isFollowing and getBill read what was saved', async () => {
    await account('1000101', [bill('1000101', '2026-11-28')]);
    const f = await follower('telegram', '7011', '1000101');
    assert.equal(await store.isFollowing(f.subscriberId, 'electricity', '1000101'), true);
    assert.equal(await store.isFollowing(f.subscriberId, 'electricity', '1000102'), false);
    assert.equal(await store.isFollowing(f.subscriberId, 'water', '1000101'), false);
    assert.deepEqual(
      await store.getBill('electricity', 'B-1000101-2026-11-28'),
      bill('1000101', '2026-11-28'),
    );
    assert.equal(await store.getBill('electricity', 'nope'), null);
  });
});
