/** The Store's SMS methods (SQLite, or PostgreSQL): inbound recorded once, receipts applied once. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestStore, type TestStore } from '../support/db.js';

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
    assert.ok(item);
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
});
