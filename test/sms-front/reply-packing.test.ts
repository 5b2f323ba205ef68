/**
 * A turn's replies leave by SMS packed one by one (found by `npm run drill -- biller-down`): two
 * replies that each fit one part are two one-part SMS when they do not fit one together (a bill
 * line and its "last known bill" note), never one two-part SMS; short ones still share an SMS.
 * And a mistyped account number is repeated cut to the length the budget allows (found by
 * `npm run drill -- random-inputs`: 300 digits made a five-part reply).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shortAccount } from '../../src/core/conversation/conversation.service.js';
import type { IdentityRecord, OutboxItemRecord } from '../../src/core/ports/store.port.js';
import type { SubscriberRecord } from '../../src/core/ports/store.port.js';
import { smsSender } from '../../src/sms-front/sms.sender.js';
import type { SmsGatewayPort } from '../../src/sms/sms-gateway.port.js';
import { measureSms } from '../../src/sms/sms-renderer.js';
import { smsTurnParts } from '../../src/sms/sms-turn-budget.js';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { Translator } from '../../src/core/i18n/translator.js';
import { renderPayload } from '../../src/core/outbox/message.handler.js';
import { turnMessagePayload } from '../../src/core/outbox/turn-message.js';
import type { Choice, Reply } from '../../src/core/i18n/reply.js';

function rig() {
  const sent: string[] = [];
  const gateway = {
    name: 'twilio',
    send: (_to: string, text: string) => {
      sent.push(text);
      return Promise.resolve({ status: 'sent', providerMessageId: `SM${sent.length}` });
    },
  } as unknown as SmsGatewayPort;
  const sender = smsSender({
    config: { gateways: ['twilio'], routes: { twilio: [], android: [] } },
    gateways: new Map([['twilio', gateway]]),
    gates: new Map(),
    publicUrl: 'http://127.0.0.1:3000',
  });
  const identity: IdentityRecord = {
    id: 'i1',
    subscriberId: 's1',
    channel: 'sms',
    address: '+963944000001',
    optedOut: false,
  };
  const item = (key: string) =>
    ({
      id: 1,
      lane: 'reply',
      payload: { key },
      attempts: 1,
      createdAt: new Date(0),
    }) as unknown as OutboxItemRecord;
  const subscriber = { id: 's1', language: 'ar', showOldPounds: false } as SubscriberRecord;
  return { sent, sender, identity, item, subscriber };
}

describe('SMS: a turn of several replies', () => {
  it('sends replies that do not fit one part together as one-part SMS', async () => {
    const { sent, sender, identity, item, subscriber } = rig();
    const line = 'المياه 7300000: 20000 ل.س، 9-10، حتى 28/11';
    const note = 'آخر فاتورة معروفة منذ 3 ساعات؛ الجهة لا تستجيب الآن.';
    const result = await sender.send({
      identity,
      subscriber,
      text: `${line}\n${note}`,
      replies: [line, note],
      choices: [{ label: 'تابع', payload: 'ADD water 7300000' }],
      item: item('bill-line'),
    });
    assert.equal(result.status, 'sent');
    assert.deepEqual(sent, [line, `${note}\n1) تابع`]);
    for (const text of sent) assert.equal(measureSms(text).parts, 1, text);
  });

  it('still joins replies that fit one part together', async () => {
    const { sent, sender, identity, item, subscriber } = rig();
    await sender.send({
      identity,
      subscriber,
      text: 'تم الإلغاء.\nلا شيء لإلغائه.',
      replies: ['تم الإلغاء.', 'لا شيء لإلغائه.'],
      item: item('cancelled'),
    });
    assert.deepEqual(sent, ['تم الإلغاء.\nلا شيء لإلغائه.']);
  });
});

describe('SMS: the turn budget counts what the sender sends', () => {
  const loaded = loadCatalogue(null);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const translator = new Translator(loaded.catalogue);
  const bill = (account: string): Reply => ({
    key: 'bill-line',
    args: {
      biller: { biller: 'electricity' },
      account,
      amount: { money: 1_875_000 },
      period: '9-10',
      due: { date: '2026-11-28' },
      overdue: 'no',
    },
  });
  const turns: Array<{ replies: Reply[]; choices: Choice[] }> = [
    { replies: [{ key: 'cancelled' }, { key: 'nothing-to-cancel' }], choices: [] },
    {
      replies: [
        bill('1000101'),
        {
          key: 'bill-cached',
          args: { biller: { biller: 'electricity' }, age: { ago: 7_200_000 } },
        },
      ],
      choices: [{ key: 'choice-follow', payload: 'ADD electricity 1000101' }],
    },
    {
      // A two-part key first: its choices may stay in its second part.
      replies: [
        {
          key: 'receipt',
          args: {
            amount: { money: 99_999_900 },
            biller: { biller: 'electricity' },
            account: '123456789012',
            channel: { channel: 'mtn-cash' },
            ref: 'P-XXXXXXXXXX',
          },
        },
      ],
      choices: [{ key: 'choice-pay', payload: 'PAY electricity 1' }],
    },
    {
      replies: [{ key: 'need-biller-add' }],
      choices: ['electricity', 'water', 'telecom'].map((id) => ({
        key: 'choice-biller',
        args: { biller: { biller: id } },
        payload: `ADD ${id}`,
      })),
    },
    { replies: [bill('1000101'), bill('1000201'), bill('1000301'), bill('1000401')], choices: [] },
  ];
  for (const [i, turn] of turns.entries()) {
    it(`turn ${i + 1} (${turn.replies[0]!.key})`, async () => {
      const { sent, sender, identity, subscriber } = rig();
      const payload = turnMessagePayload(turn.replies, turn.choices)!;
      const rendered = renderPayload(translator, payload, { ...subscriber, channel: 'sms' });
      await sender.send({
        identity,
        subscriber,
        text: rendered.replies.join('\n'),
        ...(rendered.replies.length > 1 ? { replies: rendered.replies } : {}),
        ...(rendered.choices ? { choices: rendered.choices } : {}),
        item: { ...rig().item(payload.key), payload },
      });
      const parts = sent.reduce((sum, text) => sum + measureSms(text).parts, 0);
      assert.equal(smsTurnParts(translator, turn, subscriber), parts, JSON.stringify(sent));
    });
  }
});

describe('shortAccount', () => {
  it('repeats an account as typed up to 12 characters, and cuts a longer one', () => {
    assert.equal(shortAccount('123456789012'), '123456789012');
    assert.equal(shortAccount('1'.repeat(300)), '111111111...');
    assert.equal(shortAccount('1'.repeat(300)).length, 12);
  });
});
