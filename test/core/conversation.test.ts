/**
 * The conversation engine on its own (no channel front): a real store, the simulated biller and
 * a payment port that only records what it is asked. Here: text pasted back from one of the
 * bot's own messages, which carries Fluent's invisible isolation marks (U+2068 … U+2069), and
 * the examples its questions give (sent as they are, they must answer the question).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SimulatedBiller } from '../../src/adapters/biller/simulated.biller.js';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { BillService } from '../../src/core/bills/bill.service.js';
import { ConversationService } from '../../src/core/conversation/conversation.service.js';
import { Grammar } from '../../src/core/conversation/grammar.js';
import type { Reply, ReplyArgs } from '../../src/core/i18n/reply.js';
import { stripIsolation, Translator } from '../../src/core/i18n/translator.js';
import { PaymentService } from '../../src/core/payments/payment.service.js';
import { systemClock } from '../../src/core/ports/clock.port.js';
import type {
  InitiatePaymentRequest,
  InitiatePaymentResult,
  PaymentPort,
} from '../../src/core/ports/payment.port.js';
import { createTestStore, type TestStore } from '../support/db.js';

const FSI = '\u2068';
const PDI = '\u2069';

/** A payment channel that answers "pending" and remembers every request. */
class RecordingChannel implements PaymentPort {
  readonly requests: InitiatePaymentRequest[] = [];
  initiate(request: InitiatePaymentRequest): Promise<InitiatePaymentResult> {
    this.requests.push(request);
    return Promise.resolve({ providerRef: `ref-${request.paymentId}`, status: 'pending' });
  }
  status(): Promise<{ status: 'pending' }> {
    return Promise.resolve({ status: 'pending' });
  }
  ping(): Promise<void> {
    return Promise.resolve();
  }
}

describe('conversation: numbers pasted from the bot’s own messages', () => {
  const loaded = loadCatalogue(null);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const catalogue = loaded.catalogue;
  const channels = new Map(catalogue.paymentChannels.map((c) => [c.id, new RecordingChannel()]));
  let db: TestStore;
  let conversation: ConversationService;
  let chat = 0;
  /** A new Telegram chat; its turns return the replies' keys and arguments. */
  const person = () => {
    const address = String(5_000 + ++chat);
    return async (text: string): Promise<Reply[]> =>
      (await conversation.handle({ channel: 'telegram', address, text })).replies;
  };

  before(async () => {
    db = await createTestStore();
    const billers = new Map(
      catalogue.billers.map((b) => [b.id, new SimulatedBiller({ billerId: b.id })]),
    );
    const bills = new BillService(db.store, billers, catalogue, systemClock);
    const payments = new PaymentService(
      db.store,
      channels,
      catalogue,
      systemClock,
      'http://127.0.0.1:1',
    );
    conversation = new ConversationService(db.store, bills, payments, catalogue, systemClock);
  });
  after(async () => {
    await db.close();
  });

  for (const [what, pasted] of [
    ['isolation marks', `${FSI}1000101${PDI}`],
    ['isolation marks and Arabic-Indic digits', `${FSI}١٠٠٠١٠١${PDI}`],
    ['a right-to-left mark and a zero-width space', '\u200f1000\u200b101 '],
  ] as const) {
    it(`answers "send the account number" with a pasted number (${what})`, async () => {
      const say = person();
      assert.deepEqual(await say('ADD electricity'), [
        { key: 'need-account', args: { biller: { biller: 'electricity' } } },
      ]);
      assert.deepEqual(await say(pasted), [
        {
          key: 'followed',
          args: { biller: { biller: 'electricity' }, account: '1000101', holder: 'م*** خ*** ا***' },
        },
      ]);
    });
  }

  it('still reads other text after "send the account number" as a new message', async () => {
    const say = person();
    await say('ADD electricity');
    assert.deepEqual(await say(`${FSI}REMIND OFF${PDI}`), [{ key: 'remind-off' }]);
  });

  it('reads a whole command pasted with isolation marks', async () => {
    const say = person();
    const replies = await say(`فاتورة ${FSI}الكهرباء${PDI} ${FSI}1000101${PDI}`);
    assert.deepEqual(
      replies.map((r) => r.key),
      ['bill-line'],
    );
    assert.deepEqual(
      (await say(`ADD ${FSI}Electricity${PDI} ${FSI}1000101${PDI}`)).map((r) => r.key),
      ['followed'],
    );
  });

  it('takes a pasted wallet number', async () => {
    const say = person();
    assert.deepEqual(
      (await say('PAY electricity 1000201 mtn-cash')).map((r) => r.key),
      ['ask-wallet'],
    );
    assert.deepEqual(
      (await say(`${FSI}0944 123 456${PDI}`)).map((r) => r.key),
      ['pay-started'],
    );
    const request = channels.get('mtn-cash')?.requests.at(-1);
    assert.equal(request?.payer.address, '+963944123456');
    assert.equal(request?.account, '1000201');
  });
});

describe('conversation: the examples in its questions answer them', () => {
  const loaded = loadCatalogue(null);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const translator = new Translator(loaded.catalogue);
  const grammar = new Grammar(loaded.catalogue);
  /** The example a message gives ("… مثال: X" / "… Example: X"), on SMS and on Telegram. */
  const examples = (key: string, args: ReplyArgs) =>
    (['ar', 'en'] as const).flatMap((language) =>
      (['sms', 'telegram'] as const).map((medium) => {
        const text = stripIsolation(translator.render({ key, args }, { language, medium }));
        const example = /(?:مثال|Example): (.+)$/.exec(text)?.[1];
        assert.ok(example, `${key} (${language}, ${medium}) gives no example: ${text}`);
        return { example, where: `${key} (${language}, ${medium})` };
      }),
    );

  for (const intent of ['bill', 'pay', 'add', 'remove'] as const) {
    it(`asks which service after ${intent.toUpperCase()} with a ${intent.toUpperCase()} example`, () => {
      for (const { example, where } of examples(`need-biller-${intent}`, {})) {
        assert.equal(grammar.parse(example).type, intent, `${where}: ${example}`);
      }
    });
  }

  it('asks for the account number with a bare number, which answers the open question', () => {
    for (const { example, where } of examples('need-account', {
      biller: { biller: 'electricity' },
    })) {
      assert.match(example, /^\d{6,12}$/, `${where}: ${example}`);
    }
  });
});
