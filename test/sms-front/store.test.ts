/** The Store's SMS methods (SQLite, or PostgreSQL): inbound recorded once, receipts applied once. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPostgresTestStore, createTestStore, type TestStore } from '../support/db.js';
import { onlyPostgres } from '../support/pg.js';

describe('PrismaStore: SMS', () => {
  let db: TestStore;
  before(async () => {
    db = await createTestStore();
  });
  after(async () => {
    await db.close();
  });

  it('records an inbound SMS once and lists unprocessed ones in order', async () => {
    const message = {
      gateway: 'twilio',
      dedupeKey: 'twilio:SM1',
      fromAddress: '+963944000001',
      toAddress: null,
      text: 'مرحبا',
      receivedAt: new Date(1_700_000_000_000),
    };
    assert.equal(await db.store.recordSmsInbound(message), true);
    assert.equal(await db.store.recordSmsInbound(message), false);
    assert.equal(
      await db.store.recordSmsInbound({ ...message, dedupeKey: 'android:e1', gateway: 'android' }),
      true,
    );
    const rows = await db.store.unprocessedSmsInbound(10);
    assert.deepEqual(
      rows.map((r) => r.dedupeKey),
      ['twilio:SM1', 'android:e1'],
    );
    assert.equal(rows[0]!.text, 'مرحبا');
    assert.equal(rows[0]!.receivedAt?.getTime(), 1_700_000_000_000);
    await db.store.markSmsInboundProcessed(rows[0]!.id, new Date(), null);
    assert.deepEqual(
      (await db.store.unprocessedSmsInbound(10)).map((r) => r.dedupeKey),
      ['android:e1'],
    );
    assert.equal(rows[0]!.keyword, null);
    await db.store.recordSmsInbound({ ...message, dedupeKey: 'twilio:SM2', keyword: 'stop' });
    const keyed = (await db.store.unprocessedSmsInbound(10)).find(
      (r) => r.dedupeKey === 'twilio:SM2',
    );
    assert.equal(keyed?.keyword, 'stop', 'the keyword the gateway recognised is kept');
  });

  it('applies a receipt to the outbox item by provider id, once, never undoing a final state', async () => {
    const item = await db.store.enqueue({
      kind: 'message',
      lane: 'reply',
      payload: { key: 'help' },
    });
    assert.ok(item, 'queued');
    const [claimed] = await db.store.claimOutbox('me', new Date(), 60_000, 10);
    assert.equal(claimed?.id, item.id);
    await db.store.finishOutbox(
      item.id,
      'me',
      { status: 'sent', providerMessageId: 'SMabc' },
      new Date(),
    );
    const event = {
      dedupeKey: 'twilio:SMabc:delivered',
      gateway: 'twilio',
      providerMessageId: 'SMabc',
      state: 'delivered',
      errorCode: null,
    };
    const first = await db.store.recordSmsStatus(event);
    assert.equal(first.fresh, true);
    assert.equal(first.item?.deliveryStatus, 'delivered');
    assert.equal((await db.store.recordSmsStatus(event)).fresh, false);
    await db.store.recordSmsStatus({ ...event, dedupeKey: 'twilio:SMabc:sent', state: 'sent' });
    assert.equal((await db.store.getOutboxItem(item.id))?.deliveryStatus, 'delivered');
    const unknown = await db.store.recordSmsStatus({
      ...event,
      dedupeKey: 'twilio:SMzzz:delivered',
      providerMessageId: 'SMzzz',
    });
    assert.deepEqual(unknown, { fresh: true, item: null });
  });

  /** An item sent now (claimed and finished as sent) with these provider ids. */
  async function sentItem(
    providerMessageId: string,
    parts?: Array<{ part: number; providerMessageId: string | null }>,
  ) {
    const item = await db.store.enqueue({
      kind: 'message',
      lane: 'reply',
      payload: { key: 'help' },
    });
    assert.ok(item, 'queued');
    const claimed = await db.store.claimOutbox('me', new Date(), 60_000, 10);
    assert.ok(
      claimed.some((c) => c.id === item.id),
      'claimed',
    );
    await db.store.finishOutbox(
      item.id,
      'me',
      { status: 'sent', providerMessageId, ...(parts ? { parts } : {}) },
      new Date(),
    );
    return item.id;
  }

  const receipt = (providerMessageId: string, state: string, key = state) => ({
    dedupeKey: `t:${providerMessageId}:${key}`,
    gateway: 'twilio',
    providerMessageId,
    state,
    errorCode: state === 'failed' ? '30008' : null,
  });

  it('requeues a sent item once per failure, and not once it was sent again', async () => {
    const id = await sentItem('SMr1');
    const failed = await db.store.recordSmsStatus(receipt('SMr1', 'failed'));
    assert.equal(failed.item?.deliveryStatus, 'failed');
    assert.equal(failed.item?.redeliveries, 0);
    const at = new Date(Date.now() - 1);
    assert.equal(await db.store.requeueSentOutbox(id, { redeliveries: 0 }, at, 'x'), true);
    // A second receipt of the same failure, read before the requeue: refused.
    assert.equal(await db.store.requeueSentOutbox(id, { redeliveries: 0 }, at, 'x'), false);
    const queued = await db.store.getOutboxItem(id);
    assert.equal(queued?.status, 'queued');
    assert.equal(queued?.redeliveries, 1);
    assert.match(queued?.lastError ?? '', /x/);
    // Sent again: a new message, with no receipt yet.
    const [again] = await db.store.claimOutbox('me', new Date(), 60_000, 10);
    assert.equal(again?.id, id);
    await db.store.finishOutbox(
      id,
      'me',
      { status: 'sent', providerMessageId: 'SMr2' },
      new Date(),
    );
    assert.equal((await db.store.getOutboxItem(id))?.deliveryStatus, null);
    // A late failure of the first message matches nothing any more.
    const late = await db.store.recordSmsStatus(receipt('SMr1', 'failed', 'undelivered'));
    assert.equal(late.item, null);
    assert.equal(await db.store.requeueSentOutbox(id, { redeliveries: 0 }, at, 'x'), false);
  });

  it('never requeues an item whose delivery is not failed (a late failure after "delivered")', async () => {
    const id = await sentItem('SMd1');
    await db.store.recordSmsStatus(receipt('SMd1', 'delivered'));
    const late = await db.store.recordSmsStatus(receipt('SMd1', 'failed'));
    assert.equal(late.item?.deliveryStatus, 'delivered', 'delivered wins');
    const at = new Date(Date.now() - 1);
    assert.equal(await db.store.requeueSentOutbox(id, { redeliveries: 0 }, at, 'x'), false);
    const item = await db.store.getOutboxItem(id);
    assert.equal(item?.status, 'sent');
    assert.equal(item?.redeliveries, 0);
  });

  it('takes an item out of the queue when its failed message turns out delivered', async () => {
    const id = await sentItem('SMu1');
    await db.store.recordSmsStatus(receipt('SMu1', 'failed'));
    assert.equal(
      await db.store.requeueSentOutbox(id, { redeliveries: 0 }, new Date(Date.now() + 60_000), 'x'),
      true,
    );
    const delivered = await db.store.recordSmsStatus(receipt('SMu1', 'delivered'));
    assert.equal(delivered.item?.status, 'sent');
    assert.equal(delivered.item?.deliveryStatus, 'delivered');
    assert.equal(delivered.item?.redeliveries, 0);
  });

  it('matches the receipt of every part of an item sent as several messages', async () => {
    const id = await sentItem('SMp0', [
      { part: 0, providerMessageId: 'SMp0' },
      { part: 1, providerMessageId: 'SMp1' },
    ]);
    assert.deepEqual(
      (await db.store.sentParts(id)).map((p) => [p.part, p.providerMessageId, p.deliveryStatus]),
      [
        [0, 'SMp0', null],
        [1, 'SMp1', null],
      ],
    );
    const first = await db.store.recordSmsStatus(receipt('SMp0', 'delivered'));
    assert.equal(first.item?.id, id);
    assert.equal(first.item?.deliveryStatus, null, 'not delivered while a part has no receipt');
    const sent = await db.store.recordSmsStatus(receipt('SMp1', 'sent'));
    assert.equal(sent.item?.deliveryStatus, 'sent');
    const second = await db.store.recordSmsStatus(receipt('SMp1', 'delivered'));
    assert.equal(second.item?.deliveryStatus, 'delivered', 'delivered once every part is');
    const backwards = await db.store.recordSmsStatus(receipt('SMp1', 'failed'));
    assert.equal(backwards.item?.deliveryStatus, 'delivered');

    // Sent again with none of its parts (a "delivered" came for the failed one after the item
    // was claimed, before its parts were read): its parts still say how it went.
    const resend = await sentItem('SMs0', [
      { part: 0, providerMessageId: 'SMs0' },
      { part: 1, providerMessageId: 'SMs1' },
    ]);
    await db.store.recordSmsStatus(receipt('SMs0', 'delivered'));
    await db.store.recordSmsStatus(receipt('SMs1', 'failed'));
    assert.equal(
      await db.store.requeueSentOutbox(resend, { redeliveries: 0 }, new Date(0), 'x'),
      true,
    );
    const claimed = await db.store.claimOutbox('me', new Date(), 60_000, 10);
    assert.ok(
      claimed.some((c) => c.id === resend),
      'the requeued item is claimed',
    );
    const late = await db.store.recordSmsStatus(receipt('SMs1', 'delivered'));
    assert.equal(late.item?.status, 'leased', 'a leased item stays with its sender');
    assert.equal(
      await db.store.finishOutbox(
        resend,
        'me',
        { status: 'sent', providerMessageId: 'SMs0', parts: [] },
        new Date(),
      ),
      true,
    );
    assert.equal(
      (await db.store.getOutboxItem(resend))?.deliveryStatus,
      'delivered',
      'a try that sent no part keeps what the parts say',
    );

    const other = await sentItem('SMq0', [
      { part: 0, providerMessageId: 'SMq0' },
      { part: 1, providerMessageId: 'SMq1' },
    ]);
    const failed = await db.store.recordSmsStatus(receipt('SMq1', 'failed'));
    assert.equal(failed.item?.id, other);
    assert.equal(failed.item?.deliveryStatus, 'failed', 'failed when one part is');
  });
});

/**
 * PostgreSQL runs receipts side by side (each webhook request in a transaction of its own, on a
 * pooled connection, under READ COMMITTED); SQLite runs one transaction at a time.
 */
describe('PrismaStore: SMS receipts at the same moment (PostgreSQL)', onlyPostgres, () => {
  let db: TestStore;
  before(async () => {
    db = await createPostgresTestStore();
  });
  after(async () => {
    await db.close();
  });

  const ROUNDS = 40;

  const delivered = (providerMessageId: string) => ({
    dedupeKey: `t:${providerMessageId}:delivered`,
    gateway: 'twilio',
    providerMessageId,
    state: 'delivered',
    errorCode: null,
  });

  async function sentNow(
    dedupeKey: string,
    providerMessageId: string,
    parts?: Array<{ part: number; providerMessageId: string }>,
  ): Promise<number> {
    const item = await db.store.enqueue({
      kind: 'message',
      lane: 'reply',
      payload: { key: 'help' },
      dedupeKey,
      nextAttemptAt: new Date(0),
    });
    assert.ok(item, `${dedupeKey} queued`);
    const claimed = await db.store.claimOutbox('me', new Date(), 60_000, 10);
    assert.ok(
      claimed.some((c) => c.id === item.id),
      `${dedupeKey} claimed`,
    );
    const outcome = { status: 'sent' as const, providerMessageId, ...(parts ? { parts } : {}) };
    assert.equal(await db.store.finishOutbox(item.id, 'me', outcome, new Date()), true);
    return item.id;
  }

  it('applies the receipts of two parts that arrive together: the item ends delivered', async () => {
    const other = db.connect();
    try {
      const short: number[] = [];
      for (let n = 0; n < ROUNDS; n++) {
        const id = await sentNow(`parts${n}`, `SMa${n}`, [
          { part: 0, providerMessageId: `SMa${n}` },
          { part: 1, providerMessageId: `SMb${n}` },
        ]);
        await Promise.all([
          db.store.recordSmsStatus(delivered(`SMa${n}`)),
          other.store.recordSmsStatus(delivered(`SMb${n}`)),
        ]);
        if ((await db.store.getOutboxItem(id))?.deliveryStatus !== 'delivered') short.push(n);
      }
      assert.deepEqual(short, [], 'every item whose two parts were delivered is delivered');
    } finally {
      await other.close();
    }
  });

  it('never takes a row out of the queue under a dispatcher that just leased it', async () => {
    const other = db.connect();
    try {
      const lost: number[] = [];
      for (let n = 0; n < ROUNDS; n++) {
        const id = await sentNow(`undo${n}`, `SMu${n}`);
        await db.store.recordSmsStatus({
          ...delivered(`SMu${n}`),
          state: 'failed',
          dedupeKey: `f${n}`,
        });
        assert.equal(
          await db.store.requeueSentOutbox(id, { redeliveries: 0 }, new Date(0), 'x'),
          true,
        );
        // The dispatcher claims the requeued row while "delivered after all" comes in.
        const [claimed] = await Promise.all([
          other.store.claimOutbox('them', new Date(), 60_000, 10),
          db.store.recordSmsStatus(delivered(`SMu${n}`)),
        ]);
        if (claimed.some((c) => c.id === id)) {
          // Whatever the receipt did, the lease holds: the send is recorded.
          const finished = await other.store.finishOutbox(
            id,
            'them',
            { status: 'sent', providerMessageId: `SMu${n}r1` },
            new Date(),
          );
          if (!finished) lost.push(n);
        } else {
          const item = await db.store.getOutboxItem(id);
          assert.equal(item?.status, 'sent', 'taken out of the queue: delivered after all');
          assert.equal(item?.redeliveries, 0);
        }
      }
      assert.deepEqual(lost, [], 'no claimed row lost its lease to a receipt');
    } finally {
      await other.close();
    }
  });
});
