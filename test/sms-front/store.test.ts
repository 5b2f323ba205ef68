/** The Store's SMS methods (SQLite, or PostgreSQL): inbound recorded once, receipts applied once. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RETRY_DELAYS_MS } from '../../src/core/outbox/retry.js';
import type { Store } from '../../src/core/ports/store.port.js';
import {
  createPostgresTestStore,
  createTestStore,
  type Connection,
  type TestStore,
} from '../support/db.js';
import { onlyPostgres } from '../support/pg.js';

/** A reply queued and leased by 'me', as the dispatcher holds it while it sends; its id. */
async function leasedReply(store: Store, dedupeKey?: string): Promise<number> {
  const item = await store.enqueue({
    kind: 'message',
    lane: 'reply',
    payload: { key: 'help' },
    nextAttemptAt: new Date(0),
    ...(dedupeKey ? { dedupeKey } : {}),
  });
  assert.ok(item, `${dedupeKey ?? 'reply'} queued`);
  const claimed = await store.claimOutbox('me', new Date(), 60_000, 10);
  assert.ok(
    claimed.some((c) => c.id === item.id),
    `${dedupeKey ?? 'reply'} claimed`,
  );
  return item.id;
}

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
      { status: 'sent', receipts: true, providerMessageId: 'SMabc' },
      new Date(),
    );
    const event = {
      dedupeKey: 'twilio:SMabc:delivered',
      gateway: 'twilio',
      providerMessageId: 'SMabc',
      state: 'delivered',
      errorCode: null,
    };
    const first = await db.store.recordSmsStatus(event, new Date());
    assert.equal(first.fresh, true);
    assert.equal(first.item?.deliveryStatus, 'delivered');
    assert.equal((await db.store.recordSmsStatus(event, new Date())).fresh, false);
    await db.store.recordSmsStatus(
      { ...event, dedupeKey: 'twilio:SMabc:sent', state: 'sent' },
      new Date(),
    );
    assert.equal((await db.store.getOutboxItem(item.id))?.deliveryStatus, 'delivered');
    const unknown = await db.store.recordSmsStatus(
      { ...event, dedupeKey: 'twilio:SMzzz:delivered', providerMessageId: 'SMzzz' },
      new Date(),
    );
    assert.deepEqual(unknown, { fresh: true, item: null, requeued: false });
  });

  /** An item sent now (claimed and finished as sent) with these provider ids. */
  async function sentItem(
    providerMessageId: string,
    parts?: Array<{ part: number; providerMessageId: string | null }>,
  ) {
    const id = await leasedReply(db.store);
    await db.store.finishOutbox(
      id,
      'me',
      { status: 'sent', receipts: true, providerMessageId, ...(parts ? { parts } : {}) },
      new Date(),
    );
    return id;
  }

  /** A Twilio receipt; a failure is 30008 (temporary) unless said otherwise. */
  const receipt = (
    providerMessageId: string,
    state: string,
    key = state,
    failure: 'temporary' | 'permanent' = 'temporary',
  ) => ({
    dedupeKey: `t:${providerMessageId}:${key}`,
    gateway: 'twilio',
    providerMessageId,
    state,
    errorCode: state === 'failed' ? (failure === 'temporary' ? '30008' : '30003') : null,
    failure: state === 'failed' ? failure : null,
    failureError: state === 'failed' ? `Twilio ${failure === 'temporary' ? 30008 : 30003}` : null,
  });

  /** Claims the item, due or not (a requeued item waits for its backoff). */
  async function claimAgain(id: number): Promise<void> {
    const claimed = await db.store.claimOutbox('me', new Date(Date.now() + 3_600_000), 60_000, 10);
    assert.ok(
      claimed.some((c) => c.id === id),
      `item ${id} claimed again`,
    );
  }

  it('requeues a sent item once per temporary failure, and not once it was sent again', async () => {
    const id = await sentItem('SMr1');
    const now = new Date();
    const failed = await db.store.recordSmsStatus(receipt('SMr1', 'failed'), now);
    assert.equal(failed.requeued, true);
    assert.equal(failed.item?.deliveryStatus, 'failed');
    assert.equal(failed.item?.status, 'queued');
    assert.equal(failed.item?.redeliveries, 1);
    assert.match(failed.item?.lastError ?? '', /Twilio 30008 \(delivery receipt\)/);
    assert.equal(
      failed.item?.nextAttemptAt.getTime(),
      now.getTime() + RETRY_DELAYS_MS[0]!,
      'after the first backoff',
    );
    // Another receipt of the same failure (Twilio's "failed" after "undelivered").
    const again = await db.store.recordSmsStatus(receipt('SMr1', 'failed', 'undelivered'), now);
    assert.equal(again.requeued, false, 'requeued once');
    assert.equal(again.item?.redeliveries, 1);
    // Sent again: a new message, with no receipt yet.
    await claimAgain(id);
    await db.store.finishOutbox(
      id,
      'me',
      { status: 'sent', receipts: true, providerMessageId: 'SMr2' },
      new Date(),
    );
    assert.equal((await db.store.getOutboxItem(id))?.deliveryStatus, null);
    // A late failure of the first message matches nothing any more.
    const late = await db.store.recordSmsStatus(receipt('SMr1', 'failed', 'late'), new Date());
    assert.deepEqual(late, { fresh: true, item: null, requeued: false });
    assert.equal((await db.store.getOutboxItem(id))?.status, 'sent');
  });

  it('leaves a permanent failure failed, and gives up when the retry schedule is used up', async () => {
    await sentItem('SMf1');
    const failed = await db.store.recordSmsStatus(
      receipt('SMf1', 'failed', 'failed', 'permanent'),
      new Date(),
    );
    assert.equal(failed.requeued, false);
    assert.equal(failed.item?.status, 'sent');
    assert.equal(failed.item?.deliveryStatus, 'failed');

    const tired = await sentItem('SMf2');
    await db.client.outboxItem.update({
      where: { id: tired },
      data: { attempts: RETRY_DELAYS_MS.length + 1 },
    });
    const last = await db.store.recordSmsStatus(receipt('SMf2', 'failed'), new Date());
    assert.equal(last.requeued, false, 'no try left');
    assert.equal(last.item?.status, 'sent');
    assert.equal(last.item?.redeliveries, 0);
  });

  it('never requeues an item whose delivery is not failed (a late failure after "delivered")', async () => {
    await sentItem('SMd1');
    await db.store.recordSmsStatus(receipt('SMd1', 'delivered'), new Date());
    const late = await db.store.recordSmsStatus(receipt('SMd1', 'failed'), new Date());
    assert.equal(late.item?.deliveryStatus, 'delivered', 'delivered wins');
    assert.equal(late.requeued, false);
    assert.equal(late.item?.status, 'sent');
    assert.equal(late.item?.redeliveries, 0);
  });

  it('takes an item out of the queue when its failed message turns out delivered', async () => {
    await sentItem('SMu1');
    const failed = await db.store.recordSmsStatus(receipt('SMu1', 'failed'), new Date());
    assert.equal(failed.requeued, true);
    const delivered = await db.store.recordSmsStatus(receipt('SMu1', 'delivered'), new Date());
    assert.equal(delivered.item?.status, 'sent');
    assert.equal(delivered.item?.deliveryStatus, 'delivered');
    assert.equal(delivered.item?.redeliveries, 0);
  });

  it('applies a receipt that came before its message was recorded, and requeues on it', async () => {
    // An Android request timed out after the phone took it, the phone reported the SMS failed,
    // and the retry was answered 409: only then is the item recorded as sent with that id.
    const early = await db.store.recordSmsStatus(receipt('SMe1', 'failed'), new Date());
    assert.deepEqual(early, { fresh: true, item: null, requeued: false }, 'kept, matched nothing');
    const id = await sentItem('SMe1');
    const item = await db.store.getOutboxItem(id);
    assert.equal(item?.deliveryStatus, 'failed', 'the earlier failure applied');
    assert.equal(item?.status, 'queued', 'and the SMS goes again');
    assert.equal(item?.redeliveries, 1);
    assert.match(item?.lastError ?? '', /Twilio 30008 \(delivery receipt\)/);
    const replay = await db.store.recordSmsStatus(receipt('SMe1', 'failed'), new Date());
    assert.equal(replay.fresh, false, 'a replay is still a replay');
    assert.equal((await db.store.getOutboxItem(id))?.redeliveries, 1);

    await db.store.recordSmsStatus(receipt('SMe2', 'delivered'), new Date());
    const delivered = await sentItem('SMe2');
    assert.equal((await db.store.getOutboxItem(delivered))?.deliveryStatus, 'delivered');
  });

  it('records the parts of a turn as they go: receipts before the turn is finished count', async () => {
    const id = await leasedReply(db.store);
    // Part 0's failure comes even before part 0 is recorded; part 1's delivery after.
    const early = await db.store.recordSmsStatus(receipt('SMt0', 'failed'), new Date());
    assert.equal(early.item, null, 'part 0 is not recorded yet');
    const part0 = { part: 0, providerMessageId: 'SMt0' };
    assert.equal(await db.store.recordSentPart(id, 'me', part0, new Date()), true);
    const part1 = { part: 1, providerMessageId: 'SMt1', resends: 2 };
    assert.equal(await db.store.recordSentPart(id, 'me', part1, new Date()), true);
    assert.deepEqual(
      (await db.store.sentParts(id)).map((p) => [p.part, p.providerMessageId, p.deliveryStatus]),
      [
        [0, 'SMt0', 'failed'],
        [1, 'SMt1', null],
      ],
      'the earlier failure applied as part 0 was recorded',
    );
    const during = await db.store.recordSmsStatus(receipt('SMt1', 'delivered'), new Date());
    assert.equal(during.item?.id, id, 'matched while the turn is being sent');
    assert.equal(during.item?.status, 'leased');
    assert.equal(during.requeued, false, 'not requeued under its sender');
    assert.equal(
      await db.store.recordSentPart(id, 'someone else', part1, new Date()),
      false,
      'only the lease holder records',
    );
    await db.store.finishOutbox(
      id,
      'me',
      { status: 'sent', receipts: true, providerMessageId: 'SMt0', parts: [part0, part1] },
      new Date(),
    );
    const finished = await db.store.getOutboxItem(id);
    assert.equal(finished?.deliveryStatus, 'failed');
    assert.equal(finished?.status, 'queued', 'the failed part goes again');
    assert.equal(finished?.redeliveries, 1);
    assert.deepEqual(
      (await db.store.sentParts(id)).map((p) => [p.deliveryStatus, p.resends]),
      [
        ['failed', 0],
        ['delivered', 2],
      ],
      'each part with its state and the times it was sent again',
    );
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
    const first = await db.store.recordSmsStatus(receipt('SMp0', 'delivered'), new Date());
    assert.equal(first.item?.id, id);
    assert.equal(first.item?.deliveryStatus, null, 'not delivered while a part has no receipt');
    const sent = await db.store.recordSmsStatus(receipt('SMp1', 'sent'), new Date());
    assert.equal(sent.item?.deliveryStatus, 'sent');
    const second = await db.store.recordSmsStatus(receipt('SMp1', 'delivered'), new Date());
    assert.equal(second.item?.deliveryStatus, 'delivered', 'delivered once every part is');
    const backwards = await db.store.recordSmsStatus(receipt('SMp1', 'failed'), new Date());
    assert.equal(backwards.item?.deliveryStatus, 'delivered');
    assert.equal(backwards.requeued, false);

    // Sent again with none of its parts (a "delivered" came for the failed one after the item
    // was claimed, before its parts were read): its parts still say how it went.
    const resend = await sentItem('SMs0', [
      { part: 0, providerMessageId: 'SMs0' },
      { part: 1, providerMessageId: 'SMs1' },
    ]);
    await db.store.recordSmsStatus(receipt('SMs0', 'delivered'), new Date());
    assert.equal(
      (await db.store.recordSmsStatus(receipt('SMs1', 'failed'), new Date())).requeued,
      true,
    );
    await claimAgain(resend);
    const late = await db.store.recordSmsStatus(receipt('SMs1', 'delivered'), new Date());
    assert.equal(late.item?.status, 'leased', 'a leased item stays with its sender');
    assert.equal(
      await db.store.finishOutbox(
        resend,
        'me',
        { status: 'sent', receipts: true, providerMessageId: 'SMs0', parts: [] },
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
    const failed = await db.store.recordSmsStatus(receipt('SMq1', 'failed'), new Date());
    assert.equal(failed.item?.id, other);
    assert.equal(failed.item?.deliveryStatus, 'failed', 'failed when one part is');
    assert.equal(failed.requeued, true);
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

  /**
   * Runs `round` ROUNDS times with a second connection beside the test's own; the rounds it
   * answers false for must be none.
   */
  async function everyRound(
    what: string,
    round: (n: number, other: Connection) => Promise<boolean>,
  ): Promise<void> {
    const other = db.connect();
    try {
      const bad: number[] = [];
      for (let n = 0; n < ROUNDS; n++) if (!(await round(n, other))) bad.push(n);
      assert.deepEqual(bad, [], what);
    } finally {
      await other.close();
    }
  }

  async function sentNow(
    dedupeKey: string,
    providerMessageId: string,
    parts?: Array<{ part: number; providerMessageId: string }>,
  ): Promise<number> {
    const id = await leasedReply(db.store, dedupeKey);
    const outcome = {
      status: 'sent' as const,
      receipts: true,
      providerMessageId,
      ...(parts ? { parts } : {}),
    };
    assert.equal(await db.store.finishOutbox(id, 'me', outcome, new Date()), true);
    return id;
  }

  it('applies the receipts of two parts that arrive together: the item ends delivered', async () => {
    await everyRound('every item whose two parts were delivered is delivered', async (n, other) => {
      const id = await sentNow(`parts${n}`, `SMa${n}`, [
        { part: 0, providerMessageId: `SMa${n}` },
        { part: 1, providerMessageId: `SMb${n}` },
      ]);
      await Promise.all([
        db.store.recordSmsStatus(delivered(`SMa${n}`), new Date()),
        other.store.recordSmsStatus(delivered(`SMb${n}`), new Date()),
      ]);
      return (await db.store.getOutboxItem(id))?.deliveryStatus === 'delivered';
    });
  });

  it('applies a receipt that comes just as its part is recorded', async () => {
    await everyRound('every receipt applied, by one side or the other', async (n, other) => {
      const id = await leasedReply(db.store, `early${n}`);
      await Promise.all([
        db.store.recordSentPart(id, 'me', { part: 0, providerMessageId: `SMe${n}` }, new Date()),
        other.store.recordSmsStatus(delivered(`SMe${n}`), new Date()),
      ]);
      const [part] = await db.store.sentParts(id);
      return part?.deliveryStatus === 'delivered';
    });
  });

  it('never takes a row out of the queue under a dispatcher that just leased it', async () => {
    await everyRound('no claimed row lost its lease to a receipt', async (n, other) => {
      const id = await sentNow(`undo${n}`, `SMu${n}`);
      // A temporary failure puts it back in the queue, due at once.
      const failed = await db.store.recordSmsStatus(
        {
          ...delivered(`SMu${n}`),
          dedupeKey: `f${n}`,
          state: 'failed',
          failure: 'temporary',
        },
        new Date(Date.now() - RETRY_DELAYS_MS[0]!),
      );
      assert.equal(failed.requeued, true, `round ${n}: requeued`);
      // The dispatcher claims the requeued row while "delivered after all" comes in.
      const [claimed] = await Promise.all([
        other.store.claimOutbox('them', new Date(), 60_000, 10),
        db.store.recordSmsStatus(delivered(`SMu${n}`), new Date()),
      ]);
      if (claimed.some((c) => c.id === id)) {
        // Whatever the receipt did, the lease holds: the send is recorded.
        return other.store.finishOutbox(
          id,
          'them',
          { status: 'sent', receipts: true, providerMessageId: `SMu${n}r1` },
          new Date(),
        );
      }
      const item = await db.store.getOutboxItem(id);
      assert.equal(item?.status, 'sent', 'taken out of the queue: delivered after all');
      assert.equal(item?.redeliveries, 0);
      return true;
    });
  });
});
