import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { qirsh } from '../../src/core/money.js';
import type { NewPayment, Store } from '../../src/core/ports/store.port.js';
import type { PrismaStore } from '../../src/db/prisma-store.js';
import { sqliteFileFromUrl } from '../../src/db/sqlite.js';
import { createSqliteTestStore, createTestStore, type TestStore } from '../support/db.js';

const execFileAsync = promisify(execFile);

let t: TestStore;
let store: PrismaStore;

beforeEach(async () => {
  t = await createTestStore();
  store = t.store;
});

afterEach(async () => {
  const dir = t.file === null ? null : dirname(t.file);
  await t.close();
  if (dir) assert.equal(existsSync(dir), false, 'the test database is deleted');
});

const at = (iso: string): Date => new Date(iso);

async function subscriberAndIdentity(s: Store = store, address = '+963944123456') {
  const { identity } = await s.ensureIdentity('sms', address, 'ar');
  return identity;
}

function newPayment(overrides: Partial<NewPayment> = {}): NewPayment {
  return {
    id: crypto.randomUUID(),
    subscriberId: 'sub-1',
    identityId: 'idn-1',
    billerId: 'electricity',
    account: '123456',
    billId: 'B-1',
    amountMinor: qirsh(1875000),
    currency: 'SYP',
    channelId: 'syriatel-cash',
    payerAddress: '+963944123456',
    status: 'created',
    openKey: 'electricity:B-1',
    deadlineAt: at('2026-03-01T10:00:00.000Z'),
    ...overrides,
  };
}

void describe('PrismaStore: subscribers and identities', () => {
  void test('ensureIdentity creates a subscriber once and is idempotent', async () => {
    const first = await store.ensureIdentity('telegram', '4242', 'en');
    assert.equal(first.created, true);
    assert.equal(first.identity.channel, 'telegram');
    assert.equal(first.identity.address, '4242');
    assert.equal(first.identity.optedOut, false);

    const second = await store.ensureIdentity('telegram', '4242', 'ar');
    assert.equal(second.created, false);
    assert.deepEqual(second.identity, first.identity);

    const subscriber = await store.getSubscriber(first.identity.subscriberId);
    assert.ok(subscriber);
    assert.equal(subscriber.language, 'en');
    assert.equal(subscriber.remindersEnabled, true);
    assert.equal(subscriber.showOldPounds, false);
    assert.equal(subscriber.pending, null);

    assert.deepEqual(await store.findIdentity('telegram', '4242'), first.identity);
    assert.deepEqual(await store.getIdentity(first.identity.id), first.identity);
    assert.equal(await store.findIdentity('sandbox-telegram', '4242'), null);
    assert.equal(await t.client.subscriber.count(), 1);
  });

  void test('concurrent ensureIdentity calls make one subscriber', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => store.ensureIdentity('sms', '+963933000000', 'ar')),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.identity.id)).size, 1);
    assert.equal(await t.client.subscriber.count(), 1);
  });

  void test('updateSubscriber, setOptedOut and identitiesOf', async () => {
    const identity = await subscriberAndIdentity();
    const pendingAt = at('2026-02-03T04:05:06.789Z');
    const updated = await store.updateSubscriber(identity.subscriberId, {
      language: 'en',
      governorate: 'DAM',
      remindersEnabled: false,
      showOldPounds: true,
      lastPaymentChannel: 'syriatel-cash',
      walletNumber: '0944123456',
      walletVerified: true,
      pending: JSON.stringify({ kind: 'choose' }),
      pendingAt,
    });
    assert.deepEqual(updated, {
      id: identity.subscriberId,
      language: 'en',
      governorate: 'DAM',
      remindersEnabled: false,
      showOldPounds: true,
      lastPaymentChannel: 'syriatel-cash',
      walletNumber: '0944123456',
      walletVerified: true,
      pending: '{"kind":"choose"}',
      pendingAt,
    });
    // A partial patch leaves the other fields alone; null clears.
    const cleared = await store.updateSubscriber(identity.subscriberId, {
      pending: null,
      pendingAt: null,
    });
    assert.equal(cleared.pending, null);
    assert.equal(cleared.pendingAt, null);
    assert.equal(cleared.governorate, 'DAM');

    await store.setOptedOut(identity.id, true, at('2026-02-04T00:00:00.000Z'));
    assert.equal((await store.getIdentity(identity.id))?.optedOut, true);
    const row = await t.client.identity.findUniqueOrThrow({ where: { id: identity.id } });
    assert.deepEqual(row.optedOutAt, at('2026-02-04T00:00:00.000Z'));
    await store.setOptedOut(identity.id, false, at('2026-02-05T00:00:00.000Z'));
    assert.equal((await store.getIdentity(identity.id))?.optedOut, false);

    // A second identity of the same subscriber.
    await t.client.identity.create({
      data: { id: 'tg-1', subscriberId: identity.subscriberId, channel: 'telegram', address: '77' },
    });
    const identities = await store.identitiesOf(identity.subscriberId);
    assert.deepEqual(identities.map((i) => i.channel).sort(), ['sms', 'telegram']);
  });
});

void describe('PrismaStore: followed accounts, bills, coverage', () => {
  void test('followUpTo, followsOf, unfollow', async () => {
    const { subscriberId } = await subscriberAndIdentity();
    assert.equal(await store.followUpTo(subscriberId, 'electricity', '123', 10), 'added');
    assert.equal(await store.followUpTo(subscriberId, 'electricity', '123', 10), 'already');
    assert.equal(await store.followUpTo(subscriberId, 'water', '9', 10), 'added');
    const follows = await store.followsOf(subscriberId);
    assert.deepEqual(follows.map((f) => [f.billerId, f.account]).sort(), [
      ['electricity', '123'],
      ['water', '9'],
    ]);
    assert.ok(follows.every((f) => f.createdAt instanceof Date && f.subscriberId === subscriberId));
    assert.equal(await store.unfollow(subscriberId, 'electricity', '123'), true);
    assert.equal(await store.unfollow(subscriberId, 'electricity', '123'), false);
    assert.equal((await store.followsOf(subscriberId)).length, 1);
  });

  void test('an account snapshot round-trips, datetimes equal, bills ordered by due date', async () => {
    const fetchedAt = at('2026-01-15T08:30:00.123Z');
    const snapshot = {
      billerId: 'electricity',
      account: '123456',
      holder: 'سامر الأحمد',
      governorate: 'DAM',
      fetchedAt,
      bills: [
        {
          billerId: 'electricity',
          billId: 'B-2',
          account: '123456',
          period: '11-12',
          amountMinor: qirsh(2000050),
          currency: 'SYP',
          dueDate: '2026-02-10',
          status: 'unpaid' as const,
          fetchedAt,
        },
        {
          billerId: 'electricity',
          billId: 'B-1',
          account: '123456',
          period: '9-10',
          amountMinor: qirsh(1875000),
          currency: 'SYP',
          dueDate: '2025-12-10',
          status: 'paid' as const,
          fetchedAt,
        },
      ],
    };
    assert.equal(await store.getAccountSnapshot('electricity', '123456'), null);
    await store.saveAccountSnapshot(snapshot);
    const read = await store.getAccountSnapshot('electricity', '123456');
    assert.deepEqual(read, { ...snapshot, bills: [snapshot.bills[1], snapshot.bills[0]] });
    assert.equal(read?.fetchedAt.getTime(), fetchedAt.getTime());

    // Saving again updates in place (no duplicates), and markBillPaid marks one bill.
    const later = at('2026-01-16T00:00:00.000Z');
    await store.saveAccountSnapshot({
      ...snapshot,
      holder: 'Samer',
      fetchedAt: later,
      bills: [{ ...snapshot.bills[0]!, amountMinor: qirsh(2100000), fetchedAt: later }],
    });
    await store.markBillPaid('electricity', 'B-2');
    await store.markBillPaid('electricity', 'no-such-bill');
    const again = await store.getAccountSnapshot('electricity', '123456');
    assert.equal(again?.holder, 'Samer');
    assert.deepEqual(again?.fetchedAt, later);
    assert.equal(again?.bills.length, 2);
    const b2 = again?.bills.find((b) => b.billId === 'B-2');
    assert.equal(b2?.amountMinor, 2100000);
    assert.equal(b2?.status, 'paid');
  });

  void test('seedCoverage inserts only missing rows and keeps a staff edit', async () => {
    const n = await store.seedCoverage([
      { billerId: 'electricity', governorate: 'DAM', available: true },
      { billerId: 'electricity', governorate: 'ALE', available: true },
    ]);
    assert.equal(n, 2);
    const seeded = await store.getCoverage('electricity', 'DAM');
    assert.equal(seeded?.available, true);
    assert.equal(seeded?.updatedBy, 'catalogue');
    assert.ok(seeded?.updatedAt instanceof Date);

    await store.setCoverage('electricity', 'DAM', false, 'staff:huda');
    const again = await store.seedCoverage([
      { billerId: 'electricity', governorate: 'DAM', available: true },
      { billerId: 'electricity', governorate: 'ALE', available: true },
      { billerId: 'water', governorate: 'DAM', available: false },
    ]);
    assert.equal(again, 1);
    const edited = await store.getCoverage('electricity', 'DAM');
    assert.equal(edited?.available, false);
    assert.equal(edited?.updatedBy, 'staff:huda');
    assert.equal(await store.getCoverage('gas', 'DAM'), null);

    await store.setCoverage('gas', 'HOM', true, 'staff:huda');
    const all = await store.listCoverage();
    assert.deepEqual(
      all.map((c) => `${c.billerId}/${c.governorate}/${String(c.available)}`),
      ['electricity/ALE/true', 'electricity/DAM/false', 'gas/HOM/true', 'water/DAM/false'],
    );
    assert.equal(await store.seedCoverage([]), 0);
  });
});

void describe('PrismaStore: payments', () => {
  void test('create, read back every field, find by openKey', async () => {
    const input = newPayment();
    const { payment, created } = await store.createPayment(input);
    assert.equal(created, true);
    assert.deepEqual(
      { ...payment, createdAt: undefined, updatedAt: undefined },
      {
        ...input,
        heldReason: null,
        providerRef: null,
        instructions: null,
        confirmedAmountMinor: null,
        reconcileAttempts: 0,
        nextReconcileAt: null,
        settlementStatus: 'none',
        settledAt: null,
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    assert.ok(payment.createdAt instanceof Date);
    assert.deepEqual(await store.getPayment(input.id), payment);
    assert.deepEqual(await store.findPaymentByOpenKey('electricity:B-1'), payment);
    assert.equal(await store.getPayment('nope'), null);
    assert.equal(await store.findPaymentByOpenKey('nope'), null);
  });

  void test('two concurrent createPayment with one openKey: exactly one created, same id', async () => {
    const results = await Promise.all([
      store.createPayment(newPayment({ id: 'p-a' })),
      store.createPayment(newPayment({ id: 'p-b' })),
    ]);
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(results[0]?.payment.id, results[1]?.payment.id);
    assert.equal(await t.client.payment.count(), 1);
  });

  void test('createPayment racing from two connections on one openKey', async () => {
    const other = t.connect();
    try {
      const otherStore = other.store;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? store : otherStore).createPayment(newPayment({ id: `p-${i}` })),
        ),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.payment.id)).size, 1);
      assert.equal(await t.client.payment.count(), 1);
    } finally {
      await other.close();
    }
  });

  void test('once the openKey is released, a new payment for the bill can be created', async () => {
    const first = await store.createPayment(newPayment({ id: 'p-1' }));
    assert.equal(first.created, true);
    await store.updatePayment('p-1', 'created', { status: 'failed', openKey: null });
    const second = await store.createPayment(newPayment({ id: 'p-2' }));
    assert.equal(second.created, true);
    assert.equal(second.payment.id, 'p-2');
  });

  void test('updatePayment is conditional on the expected status', async () => {
    const { payment } = await store.createPayment(newPayment({ id: 'p-1' }));
    assert.equal(await store.updatePayment('p-1', 'pending', { status: 'succeeded' }), null);
    assert.equal(await store.updatePayment('missing', 'created', { status: 'pending' }), null);
    assert.equal((await store.getPayment('p-1'))?.status, 'created');

    await new Promise((resolve) => setTimeout(resolve, 5));
    const next = at('2026-03-01T10:05:00.000Z');
    const updated = await store.updatePayment('p-1', 'created', {
      status: 'pending',
      providerRef: 'REF-9',
      instructions: 'Dial *3040#',
      nextReconcileAt: next,
      reconcileAttempts: 1,
    });
    assert.ok(updated);
    assert.equal(updated.status, 'pending');
    assert.equal(updated.providerRef, 'REF-9');
    assert.equal(updated.instructions, 'Dial *3040#');
    assert.deepEqual(updated.nextReconcileAt, next);
    assert.equal(updated.reconcileAttempts, 1);
    assert.equal(updated.openKey, 'electricity:B-1');
    assert.ok(updated.updatedAt.getTime() > payment.updatedAt.getTime());
    assert.deepEqual(await store.getPayment('p-1'), updated);

    const held = await store.updatePayment('p-1', 'pending', {
      status: 'held',
      heldReason: 'amount_mismatch',
      confirmedAmountMinor: qirsh(100),
      settlementStatus: 'queued',
      settledAt: at('2026-03-02T00:00:00.000Z'),
    });
    assert.equal(held?.heldReason, 'amount_mismatch');
    assert.equal(held?.confirmedAmountMinor, 100);
    assert.equal(held?.settlementStatus, 'queued');
    assert.deepEqual(held?.settledAt, at('2026-03-02T00:00:00.000Z'));
  });

  void test('paymentsToReconcile, listPayments, succeededPaymentForBill', async () => {
    const now = at('2026-03-01T12:00:00.000Z');
    for (const [id, due] of [
      ['p-late', '2026-03-01T11:00:00.000Z'],
      ['p-early', '2026-03-01T10:00:00.000Z'],
      ['p-future', '2026-03-01T13:00:00.000Z'],
    ] as const) {
      await store.createPayment(newPayment({ id, openKey: `electricity:${id}`, billId: id }));
      await store.updatePayment(id, 'created', { status: 'pending', nextReconcileAt: at(due) });
    }
    assert.deepEqual(
      (await store.paymentsToReconcile(now, 10)).map((p) => p.id),
      ['p-early', 'p-late'],
    );
    assert.deepEqual(
      (await store.paymentsToReconcile(now, 1)).map((p) => p.id),
      ['p-early'],
    );

    await store.updatePayment('p-late', 'pending', { status: 'succeeded', openKey: null });
    assert.deepEqual(
      (await store.listPayments({ status: 'succeeded' })).map((p) => p.id),
      ['p-late'],
    );
    assert.equal((await store.listPayments({})).length, 3);
    assert.equal((await store.succeededPaymentForBill('electricity', 'p-late'))?.id, 'p-late');
    assert.equal(await store.succeededPaymentForBill('electricity', 'p-early'), null);
  });

  void test('payment events are deduplicated by (channelId, eventId)', async () => {
    const event = {
      channelId: 'syriatel-cash',
      eventId: 'evt-1',
      paymentId: 'p-1',
      source: 'webhook' as const,
      status: 'succeeded',
      amountMinor: qirsh(1875000),
      occurredAt: at('2026-03-01T10:01:00.000Z'),
      outcome: 'applied',
    };
    assert.equal(await store.recordPaymentEvent(event), true);
    assert.equal(await store.recordPaymentEvent({ ...event, outcome: 'again' }), false);
    assert.equal(await store.recordPaymentEvent({ ...event, channelId: 'mtn-cash' }), true);
    const second = {
      ...event,
      eventId: 'evt-2',
      source: 'reconcile' as const,
      amountMinor: null,
      occurredAt: null,
    };
    assert.equal(await store.recordPaymentEvent(second), true);
    const events = await store.paymentEvents('p-1');
    assert.equal(events.length, 3);
    assert.deepEqual(
      events.find((e) => e.eventId === 'evt-1' && e.channelId === 'syriatel-cash'),
      event,
    );
    assert.deepEqual(
      events.find((e) => e.eventId === 'evt-2'),
      second,
    );
    assert.deepEqual(await store.paymentEvents('other'), []);
  });
});

void describe('PrismaStore: audit log', () => {
  void test('audit entries are appended, read back in order, JSON detail parsed', async () => {
    await store.audit({
      actor: 'system',
      entity: 'payment',
      entityId: 'p-1',
      action: 'create',
      toState: 'created',
      detail: { amountMinor: 1875000, note: 'دفعة' },
    });
    await store.audit({
      actor: 'staff:huda',
      entity: 'payment',
      entityId: 'p-1',
      action: 'release',
      fromState: 'held',
      toState: 'succeeded',
    });
    await store.audit({ actor: 'x', entity: 'payment', entityId: 'p-2', action: 'create' });
    const trail = await store.auditTrail('payment', 'p-1');
    assert.equal(trail.length, 2);
    assert.ok(trail[0]!.id < trail[1]!.id);
    assert.deepEqual(trail[0]?.detail, { amountMinor: 1875000, note: 'دفعة' });
    assert.equal(trail[0]?.fromState, null);
    assert.equal(trail[0]?.toState, 'created');
    assert.equal(trail[1]?.detail, null);
    assert.equal(trail[1]?.fromState, 'held');
    assert.ok(trail[0]?.at instanceof Date);
  });

  void test('the database refuses UPDATE and DELETE on the audit log', async () => {
    await store.audit({ actor: 'system', entity: 'payment', entityId: 'p-1', action: 'create' });
    await assert.rejects(
      t.client.$executeRawUnsafe(`UPDATE "AuditLog" SET "actor" = 'mallory'`),
      /append-only/,
    );
    await assert.rejects(t.client.$executeRawUnsafe(`DELETE FROM "AuditLog"`), /append-only/);
    const trail = await store.auditTrail('payment', 'p-1');
    assert.equal(trail.length, 1);
    assert.equal(trail[0]?.actor, 'system');
  });
});

void describe('PrismaStore: outbox', () => {
  const now = at('2026-03-01T12:00:00.000Z');
  const before = (ms: number) => new Date(now.getTime() - ms);

  void test('enqueue writes the item (payload as JSON) and dedupes by key', async () => {
    const item = await store.enqueue({
      kind: 'message',
      lane: 'reply',
      dedupeKey: 'welcome:1',
      identityId: 'idn-1',
      channel: 'sms',
      address: '+963944123456',
      payload: { key: 'welcome', args: { name: 'سامر' } },
      broadcastId: 'b-1',
      nextAttemptAt: before(1000),
    });
    assert.ok(item);
    assert.equal(item.status, 'queued');
    assert.equal(item.attempts, 0);
    assert.deepEqual(item.payload, { key: 'welcome', args: { name: 'سامر' } });
    assert.deepEqual(item.nextAttemptAt, before(1000));
    assert.equal(item.broadcastId, 'b-1');
    assert.deepEqual(await store.getOutboxItem(item.id), item);
    const raw = await t.client.outboxItem.findUniqueOrThrow({ where: { id: item.id } });
    assert.equal(raw.payload, '{"key":"welcome","args":{"name":"سامر"}}');

    assert.equal(
      await store.enqueue({ kind: 'message', lane: 'reply', dedupeKey: 'welcome:1', payload: {} }),
      null,
    );
    // Without a key, nothing is deduplicated; nextAttemptAt defaults to now.
    const a = await store.enqueue({
      kind: 'settlement',
      lane: 'work',
      payload: { paymentId: 'p-1' },
    });
    const b = await store.enqueue({
      kind: 'settlement',
      lane: 'work',
      payload: { paymentId: 'p-1' },
    });
    assert.ok(a && b && a.id !== b.id);
    assert.ok(Math.abs(a.nextAttemptAt.getTime() - Date.now()) < 60_000);
    assert.equal(await store.getOutboxItem(999_999), null);
  });

  void test('claimOutbox serves reply, then work, then bulk, and leases what it returns', async () => {
    const bulk = await store.enqueue({
      kind: 'message',
      lane: 'bulk',
      payload: 1,
      nextAttemptAt: before(5000),
    });
    const work = await store.enqueue({
      kind: 'settlement',
      lane: 'work',
      payload: 2,
      nextAttemptAt: before(4000),
    });
    const reply2 = await store.enqueue({
      kind: 'message',
      lane: 'reply',
      payload: 3,
      nextAttemptAt: before(1000),
    });
    const reply1 = await store.enqueue({
      kind: 'message',
      lane: 'reply',
      payload: 4,
      nextAttemptAt: before(2000),
    });
    const future = await store.enqueue({
      kind: 'message',
      lane: 'reply',
      payload: 5,
      nextAttemptAt: new Date(now.getTime() + 1000),
    });
    assert.ok(bulk && work && reply1 && reply2 && future);

    const firstTwo = await store.claimOutbox('w1', now, 30_000, 2);
    // Within the reply lane, id order (whatever each row's due time).
    assert.deepEqual(
      firstTwo.map((i) => i.id),
      [reply2.id, reply1.id],
    );
    const rest = await store.claimOutbox('w1', now, 30_000, 10);
    assert.deepEqual(
      rest.map((i) => i.id),
      [work.id, bulk.id],
    );
    for (const item of [...firstTwo, ...rest]) {
      assert.equal(item.status, 'leased');
      assert.equal(item.leaseOwner, 'w1');
      assert.deepEqual(item.leaseUntil, new Date(now.getTime() + 30_000));
      assert.equal(item.attempts, 1);
    }

    // Before the leases expire nobody else gets them.
    assert.deepEqual(await store.claimOutbox('w2', new Date(now.getTime() + 500), 30_000, 10), []);
    // Only the future item, once it is due.
    const dueLater = await store.claimOutbox('w2', new Date(now.getTime() + 29_000), 30_000, 10);
    assert.deepEqual(
      dueLater.map((i) => i.id),
      [future.id],
    );

    // After expiry they are claimed again, attempts grows (the future item's lease still runs).
    const later = new Date(now.getTime() + 30_001);
    const reclaimed = await store.claimOutbox('w3', later, 30_000, 10);
    assert.deepEqual(
      reclaimed.map((i) => i.id),
      [reply2.id, reply1.id, work.id, bulk.id],
    );
    assert.ok(reclaimed.every((i) => i.attempts === 2 && i.leaseOwner === 'w3'));
    assert.equal((await store.getOutboxItem(future.id))?.leaseOwner, 'w2');
    assert.deepEqual(await store.claimOutbox('w2', later, 30_000, 0), []);
  });

  void test('the bulk lane: expired leases, then urgent rows, then the rest by due time', async () => {
    const bulk = (payload: number, ago: number, urgent = false) =>
      store.enqueue({
        kind: 'broadcast',
        lane: 'bulk',
        payload,
        urgent,
        nextAttemptAt: before(ago),
      });
    const late = await bulk(1, 1000); // written first, due most recently (a retry)
    const early = await bulk(2, 9000);
    const urgent = await bulk(3, 500, true);
    const stale = await bulk(4, 8000);
    assert.ok(late && early && urgent && stale);
    // A dead holder's lease.
    const [held] = await store.claimOutbox('dead', before(8_500), 1_000, 1);
    assert.equal(held?.id, early.id);

    const quiet = await store.claimOutbox('w1', now, 30_000, 10, {
      lanes: ['bulk'],
      bulkUrgentOnly: true,
    });
    assert.deepEqual(
      quiet.map((i) => i.id),
      [urgent.id],
      'in quiet hours only urgent rows (the expired lease is not urgent)',
    );
    const rest = await store.claimOutbox('w1', now, 30_000, 10, { lanes: ['bulk'] });
    assert.deepEqual(
      rest.map((i) => i.id),
      [early.id, stale.id, late.id],
    );
    // Nothing queued: the next thing due is the first of those leases to expire.
    assert.deepEqual(
      await store.nextOutboxDue({ lanes: ['bulk'] }),
      new Date(now.getTime() + 30_000),
    );
  });

  void test('nextOutboxDue in quiet hours looks at urgent bulk rows only', async () => {
    await store.enqueue({ kind: 'broadcast', lane: 'bulk', payload: 1, nextAttemptAt: before(10) });
    const soon = new Date(now.getTime() + 5_000);
    await store.enqueue({
      kind: 'broadcast',
      lane: 'bulk',
      payload: 2,
      urgent: true,
      nextAttemptAt: soon,
    });
    assert.deepEqual(await store.nextOutboxDue({ lanes: ['bulk'], bulkUrgentOnly: true }), soon);
    assert.deepEqual(await store.nextOutboxDue({ lanes: ['bulk'] }), before(10));
  });

  void test('concurrent claims never return the same item twice', async () => {
    for (let i = 0; i < 20; i++) {
      await store.enqueue({
        kind: 'message',
        lane: i % 2 ? 'bulk' : 'reply',
        payload: i,
        nextAttemptAt: before(1000),
      });
    }
    const claims = await Promise.all(
      Array.from({ length: 5 }, (_, i) => store.claimOutbox(`w${i}`, now, 30_000, 6)),
    );
    const ids = claims.flat().map((item) => item.id);
    assert.equal(ids.length, 20);
    assert.equal(new Set(ids).size, 20);
  });

  void test('finishOutbox applies only for the lease owner, per outcome', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const item = await store.enqueue({
        kind: 'message',
        lane: 'reply',
        identityId: 'idn-1',
        payload: i,
        nextAttemptAt: before(1000),
      });
      assert.ok(item);
      ids.push(item.id);
    }
    const [sentId, retryId, failedId, skippedId] = ids as [number, number, number, number];
    assert.equal(
      await store.finishOutbox(sentId, 'w1', { status: 'sent' }, now),
      false,
      'not leased yet',
    );
    await store.claimOutbox('w1', now, 30_000, 10);

    assert.equal(
      await store.finishOutbox(sentId, 'intruder', { status: 'sent', text: 'x' }, now),
      false,
    );
    assert.equal((await store.getOutboxItem(sentId))?.status, 'leased');

    assert.equal(
      await store.finishOutbox(
        sentId,
        'w1',
        { status: 'sent', text: 'أهلاً', providerMessageId: 'SM1' },
        now,
      ),
      true,
    );
    const sent = await store.getOutboxItem(sentId);
    assert.equal(sent?.status, 'sent');
    assert.equal(sent?.text, 'أهلاً');
    assert.equal(sent?.providerMessageId, 'SM1');
    assert.deepEqual(sent?.doneAt, now);
    assert.equal(sent?.leaseOwner, null);
    assert.equal(sent?.leaseUntil, null);
    // Finished once; a second finish by the same owner does nothing.
    assert.equal(
      await store.finishOutbox(sentId, 'w1', { status: 'failed', error: 'late' }, now),
      false,
    );

    const retryAt = new Date(now.getTime() + 60_000);
    assert.equal(
      await store.finishOutbox(
        retryId,
        'w1',
        { status: 'retry', error: '429', nextAttemptAt: retryAt },
        now,
      ),
      true,
    );
    const retry = await store.getOutboxItem(retryId);
    assert.equal(retry?.status, 'queued');
    assert.deepEqual(retry?.nextAttemptAt, retryAt);
    assert.equal(retry?.lastError, '429');
    assert.equal(retry?.leaseOwner, null);
    assert.equal(retry?.doneAt, null);

    assert.equal(
      await store.finishOutbox(failedId, 'w1', { status: 'failed', error: 'bad number' }, now),
      true,
    );
    const failed = await store.getOutboxItem(failedId);
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.lastError, 'bad number');
    assert.deepEqual(failed?.doneAt, now);

    assert.equal(
      await store.finishOutbox(skippedId, 'w1', { status: 'skipped', error: 'opted out' }, now),
      true,
    );
    assert.equal((await store.getOutboxItem(skippedId))?.status, 'skipped');

    // The sandbox inbox: sent messages of the identity after an id.
    assert.deepEqual(
      (await store.sentMessages('idn-1', 0, 10)).map((i) => i.id),
      [sentId],
    );
    assert.deepEqual(await store.sentMessages('idn-1', sentId, 10), []);
    assert.deepEqual(await store.sentMessages('idn-2', 0, 10), []);
  });

  void test('nextOutboxDue is the earliest queued attempt or lease expiry', async () => {
    assert.equal(await store.nextOutboxDue(), null);
    const a = await store.enqueue({
      kind: 'message',
      lane: 'reply',
      payload: 1,
      nextAttemptAt: before(1000),
    });
    await store.enqueue({
      kind: 'message',
      lane: 'bulk',
      payload: 2,
      nextAttemptAt: new Date(now.getTime() + 50_000),
    });
    assert.deepEqual(await store.nextOutboxDue(), before(1000));
    await store.claimOutbox('w1', now, 10_000, 1);
    assert.equal((await store.getOutboxItem(a!.id))?.status, 'leased');
    // The lease (now + 10 s) comes before the other queued item (now + 50 s).
    assert.deepEqual(await store.nextOutboxDue(), new Date(now.getTime() + 10_000));
    await store.finishOutbox(a!.id, 'w1', { status: 'sent' }, now);
    assert.deepEqual(await store.nextOutboxDue(), new Date(now.getTime() + 50_000));
  });
});

void describe('PrismaStore: watches', () => {
  void test('addWatch dedupes, takeWatches returns them once', async () => {
    const w = {
      kind: 'biller' as const,
      target: 'electricity',
      subscriberId: 's-1',
      identityId: 'i-1',
    };
    assert.equal(await store.hasWatches('biller', 'electricity'), false);
    assert.equal(await store.addWatch(w), true);
    assert.equal(await store.addWatch(w), false);
    assert.equal(await store.addWatch({ ...w, identityId: 'i-2' }), true);
    assert.equal(await store.addWatch({ ...w, kind: 'payment', target: 'p-1' }), true);
    assert.equal(await store.hasWatches('biller', 'electricity'), true);

    const taken = await store.takeWatches('biller', 'electricity');
    assert.deepEqual(taken.map((x) => x.identityId).sort(), ['i-1', 'i-2']);
    assert.ok(
      taken.every(
        (x) =>
          x.kind === 'biller' && x.target === 'electricity' && x.subscriberId === 's-1' && x.id,
      ),
    );
    assert.deepEqual(await store.takeWatches('biller', 'electricity'), []);
    assert.equal(await store.hasWatches('biller', 'electricity'), false);
    assert.equal(await store.hasWatches('payment', 'p-1'), true);
  });
});

void describe('PrismaStore: instances', () => {
  const now = at('2026-03-01T12:00:00.000Z');
  const before = (ms: number) => new Date(now.getTime() - ms);

  void test('heartbeat counts live instances; a dead one is forgotten and its leases freed', async () => {
    const at = (s: number) => new Date(now.getTime() + s * 1000);
    assert.equal(await store.heartbeat('a', at(0), at(-15)), 1);
    assert.equal(await store.heartbeat('b', at(1), at(-14)), 2);
    const items = [];
    for (let i = 0; i < 3; i++) {
      items.push(
        await store.enqueue({
          kind: 'message',
          lane: 'reply',
          payload: i,
          nextAttemptAt: before(10),
        }),
      );
    }
    const [heldByA] = await store.claimOutbox('a', now, 60_000, 1);
    const [heldByB] = await store.claimOutbox('b', now, 60_000, 1);
    assert.ok(heldByA && heldByB);
    // b goes on beating; a stops (killed) and is stale 15 s after its last beat.
    assert.equal(await store.heartbeat('b', at(10), at(-5)), 2);
    assert.equal(await store.heartbeat('b', at(16), at(1)), 1);
    const freed = await store.getOutboxItem(heldByA.id);
    assert.equal(freed?.status, 'queued');
    assert.equal(freed?.leaseOwner, null);
    assert.equal(freed?.attempts, 1, 'the attempt it made still counts');
    assert.equal((await store.getOutboxItem(heldByB.id))?.leaseOwner, 'b');
    // The freed item is claimed again at once, long before a's lease (60 s) would have ended.
    const again = await store.claimOutbox('b', at(16), 60_000, 5);
    assert.ok(again.some((i) => i.id === heldByA.id));
    // An instance that stops cleanly leaves at once.
    await store.leaveFleet('b');
    assert.equal(await store.heartbeat('c', at(17), at(2)), 1);
  });
});

void describe('PrismaStore: two processes on one database', () => {
  void test('claims and identities stay consistent when two processes race', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) {
      const item = await store.enqueue({
        kind: 'message',
        lane: i % 3 === 0 ? 'reply' : 'bulk',
        payload: i,
        nextAttemptAt: new Date(Date.now() - 1000),
      });
      ids.push(item!.id);
    }
    // The child opens the test database by its URL: the same file, or the same PostgreSQL
    // database, with a client of its own.
    const dir = mkdtempSync(join(tmpdir(), 'tasdeed-child-'));
    const script = join(dir, 'child.mts');
    const src = (path: string) => JSON.stringify(pathToFileURL(join(process.cwd(), path)).href);
    writeFileSync(
      script,
      `import { connectTo } from ${src('test/support/db.ts')};
const [url, owner, startAt] = process.argv.slice(2);
const { store, client } = connectTo(url);
await store.ping();
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
const claimed = [];
let created = 0;
for (let round = 0; round < 40; round++) {
  const got = await store.claimOutbox(owner, new Date(), 60000, 2);
  claimed.push(...got.map((i) => i.id));
  const r = await store.ensureIdentity('sms', '+96390000' + (round % 10), 'ar');
  if (r.created) created++;
}
await client.$disconnect();
console.log(JSON.stringify({ claimed, created }));
`,
    );
    const startAt = String(Date.now() + 2500);
    const run = (owner: string) =>
      execFileAsync(process.execPath, ['--import', 'tsx', script, t.url, owner, startAt], {
        cwd: process.cwd(),
      }).then(
        ({ stdout }) =>
          JSON.parse(stdout.trim().split('\n').pop() ?? '') as {
            claimed: number[];
            created: number;
          },
      );
    const [a, b] = await Promise.all([run('proc-a'), run('proc-b')]).finally(() =>
      rmSync(dir, { recursive: true, force: true }),
    );
    const all = [...a.claimed, ...b.claimed];
    assert.equal(new Set(all).size, all.length, 'no item claimed twice');
    assert.deepEqual(
      [...all].sort((x, y) => x - y),
      ids,
    );
    assert.equal(a.created + b.created, 10);
    assert.equal(await t.client.subscriber.count(), 10);
    assert.equal(await t.client.identity.count(), 10);
  });
});

void describe('PrismaStore: transactions', () => {
  void test('ping answers', async () => {
    await store.ping();
  });

  void test('a transaction commits together or rolls back together', async () => {
    const identity = await store.transaction(async (tx) => {
      const { identity } = await tx.ensureIdentity('sms', '+963944000001', 'ar');
      await tx.followUpTo(identity.subscriberId, 'electricity', '1', 10);
      return identity;
    });
    assert.equal((await store.followsOf(identity.subscriberId)).length, 1);

    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.followUpTo(identity.subscriberId, 'water', '2', 10);
        await tx.audit({ actor: 'a', entity: 'e', entityId: '1', action: 'x' });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal((await store.followsOf(identity.subscriberId)).length, 1);
    assert.deepEqual(await store.auditTrail('e', '1'), []);
  });

  void test('a nested transaction on the tx store runs in the same transaction', async () => {
    await assert.rejects(
      store.transaction(async (tx) => {
        const inner = await tx.transaction(async (tx2) => {
          assert.equal(tx2, tx);
          return tx2.enqueue({ kind: 'message', lane: 'reply', payload: 1 });
        });
        assert.ok(inner);
        // Operations that open their own transaction on a root store join this one.
        await tx.seedCoverage([{ billerId: 'x', governorate: 'DAM', available: true }]);
        assert.equal(
          await tx.claimOutbox('w', new Date(Date.now() + 1000), 1000, 5).then((r) => r.length),
          1,
        );
        throw new Error('undo all');
      }),
      /undo all/,
    );
    assert.equal(await t.client.outboxItem.count(), 0);
    assert.equal(await t.client.coverage.count(), 0);
  });

  void test('root-store work issued while a transaction is open is not swallowed by its rollback', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const tx = store.transaction(async (txStore) => {
      await txStore.enqueue({ kind: 'message', lane: 'reply', dedupeKey: 'in-tx', payload: 1 });
      entered();
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new Error('rollback');
    });
    // Watched from now on: the rollback may come before the enqueue below returns.
    const rolledBack = assert.rejects(tx, /rollback/);
    await inside;
    const outside = await store.enqueue({
      kind: 'message',
      lane: 'reply',
      dedupeKey: 'outside',
      payload: 2,
    });
    await rolledBack;
    assert.ok(outside);
    const keys = (await t.client.outboxItem.findMany()).map((row) => row.dedupeKey);
    assert.deepEqual(keys, ['outside']);
  });

  void test('SQLite: using the root store inside its own transaction fails at once', async () => {
    // One connection per client on SQLite: the root store would wait for the transaction
    // forever. (On PostgreSQL it takes another pooled connection and simply works.)
    const sqlite = await createSqliteTestStore();
    try {
      const root = sqlite.store;
      await assert.rejects(
        root.transaction(async () => {
          await root.ping();
        }),
        /use the store passed to transaction/,
      );
      // The lock was released.
      await root.ping();
    } finally {
      await sqlite.close();
    }
  });
});

void describe('sqliteFileFromUrl', () => {
  void test('accepts file URLs and returns an absolute path', () => {
    assert.equal(sqliteFileFromUrl('file:./data/x.db'), join(process.cwd(), 'data', 'x.db'));
    assert.equal(sqliteFileFromUrl('file:data/x.db'), join(process.cwd(), 'data', 'x.db'));
    assert.equal(sqliteFileFromUrl('file:/abs/x.db'), '/abs/x.db');
    assert.equal(sqliteFileFromUrl('file:///abs/x.db'), '/abs/x.db');
    assert.equal(sqliteFileFromUrl('file:/abs/x.db?mode=rwc'), '/abs/x.db');
  });

  void test('refuses other URLs', () => {
    for (const url of ['postgresql://localhost/test', './x.db', 'file:', 'file::memory:', '']) {
      assert.throws(() => sqliteFileFromUrl(url), /SQLite/, url);
    }
  });
});
