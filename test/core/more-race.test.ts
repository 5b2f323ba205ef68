/**
 * MORE continues the list last shown to the subscriber, and two MOREs at once must not both
 * give the same page (found by review: both read the same paging state and sent the same next
 * page). The page a MORE takes is claimed with a conditional update of that state: the one
 * that loses reads the state again and gives the page after. On the conversation engine with a
 * real store (SQLite, or PostgreSQL when TEST_DATABASE_URL is set) and the simulated biller.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SimulatedBiller } from '../../src/adapters/biller/simulated.biller.js';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { BillService } from '../../src/core/bills/bill.service.js';
import { ConversationService } from '../../src/core/conversation/conversation.service.js';
import { PaymentService } from '../../src/core/payments/payment.service.js';
import { systemClock } from '../../src/core/ports/clock.port.js';
import { createTestStore, type TestStore } from '../support/db.js';

const ACCOUNTS = Array.from({ length: 10 }, (_, i) => `100${String(i + 1).padStart(2, '0')}01`);

describe('conversation: MOREs at once', () => {
  const loaded = loadCatalogue(null);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const catalogue = loaded.catalogue;
  let db: TestStore;
  let conversation: ConversationService;

  before(async () => {
    db = await createTestStore();
    const billers = new Map(
      catalogue.billers.map((b) => [b.id, new SimulatedBiller({ billerId: b.id })]),
    );
    const bills = new BillService(db.store, billers, catalogue, systemClock);
    const payments = new PaymentService(db.store, new Map(), catalogue, systemClock, 'http://x');
    conversation = new ConversationService(
      db.store,
      bills,
      payments,
      catalogue,
      systemClock,
      'Asia/Damascus',
      // Two bill lines and the footer a page.
      { budget: (turn) => turn.replies.length <= 3 },
    );
  });
  after(async () => {
    await db.close();
  });

  /** The accounts a turn's bill lines name, in order. */
  const accountsOf = (replies: Array<{ args?: Record<string, unknown> }>) =>
    replies.flatMap((r) => (typeof r.args?.account === 'string' ? [r.args.account] : []));

  it('two MOREs at once give two different pages, and the next MORE the page after both', async () => {
    for (let round = 0; round < 5; round++) {
      const address = `+9639447100${String(round).padStart(2, '0')}`;
      const say = async (text: string) =>
        accountsOf((await conversation.handle({ channel: 'sms', address, text })).replies);
      for (const account of ACCOUNTS) await say(`ADD electricity ${account}`);
      const shown = await say('BILL');
      assert.deepEqual(shown, ACCOUNTS.slice(0, 2));
      const [a, b] = await Promise.all([say('MORE'), say('MORE')]);
      shown.push(...[a, b].sort((x, y) => x[0]!.localeCompare(y[0]!)).flat());
      shown.push(...(await say('MORE')));
      assert.deepEqual(shown, ACCOUNTS.slice(0, 8), `round ${round}: each page once, in order`);
    }
  });
});
