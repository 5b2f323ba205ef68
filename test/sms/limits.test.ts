/** The SMS reply cap, counted from the outbox of a real database (SQLite, or PostgreSQL). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ReplyCap, smsReplyKey } from '../../src/sms/limits.js';
import { createTestStore, type TestStore } from '../support/db.js';

function fakeClock(start: number) {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('ReplyCap', () => {
  let db: TestStore;
  before(async () => {
    db = await createTestStore();
  });
  after(async () => {
    await db.close();
  });

  /** Queues a reply to `identityId` as the SMS inbox does, decided at the clock's now. */
  async function reply(identityId: string, n: number, now: Date): Promise<void> {
    const row = await db.store.enqueue({
      kind: 'message',
      lane: 'reply',
      identityId,
      channel: 'sms',
      payload: { key: 'help' },
      dedupeKey: smsReplyKey(`twilio:SM${identityId}${n}`, identityId),
      nextAttemptAt: now,
      createdAt: now,
    });
    assert.ok(row, 'queued');
  }

  it('allows at most N replies to one identity in a sliding hour', async () => {
    const clock = fakeClock(Date.UTC(2026, 10, 25, 9));
    const { identity } = await db.store.ensureIdentity('sms', '+963944123456', 'ar');
    const { identity: other } = await db.store.ensureIdentity('sms', '+963955000111', 'ar');
    const cap = new ReplyCap(20, db.store, clock);
    for (let i = 0; i < 20; i++) {
      assert.equal(await cap.allows(identity.id), true, `reply ${i + 1}`);
      await reply(identity.id, i, clock.now());
      clock.advance(60_000);
    }
    assert.equal(await cap.allows(identity.id), false, 'the 21st in the hour is held');
    assert.equal(await cap.allows(other.id), true, 'another sender is not held');
    // The first reply was at t=0; at t=1 h (40 minutes from now) it leaves the window.
    clock.advance(40 * 60_000 - 1);
    assert.equal(await cap.allows(identity.id), false, 'still 20 in the hour');
    clock.advance(1);
    assert.equal(await cap.allows(identity.id), true, 'the oldest left the hour');
    assert.equal(await cap.count(identity.id), 19);
  });

  it('counts only the replies the SMS inbox queued (receipts and reminders are not replies)', async () => {
    const clock = fakeClock(Date.UTC(2026, 10, 26, 9));
    const { identity } = await db.store.ensureIdentity('sms', '+963944123457', 'ar');
    const cap = new ReplyCap(1, db.store, clock);
    await db.store.enqueue({
      kind: 'message',
      lane: 'reply',
      identityId: identity.id,
      channel: 'sms',
      payload: { key: 'receipt' },
      dedupeKey: `receipt:P-1`,
      createdAt: clock.now(),
    });
    assert.equal(await cap.allows(identity.id), true);
    await reply(identity.id, 1, clock.now());
    assert.equal(await cap.allows(identity.id), false);
  });

  it('holds for every cap made on the same database (another instance, a restarted one)', async () => {
    const clock = fakeClock(Date.UTC(2026, 10, 27, 9));
    const { identity } = await db.store.ensureIdentity('sms', '+963944123458', 'ar');
    await reply(identity.id, 1, clock.now());
    await reply(identity.id, 2, clock.now());
    const other = db.connect();
    try {
      const cap = new ReplyCap(2, other.store, clock);
      assert.equal(await cap.count(identity.id), 2);
      assert.equal(await cap.allows(identity.id), false);
    } finally {
      await other.close();
    }
  });
});
