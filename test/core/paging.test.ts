/**
 * The pager of long answers: whole items per page, as many as the medium's budget takes (at
 * least one), a footer naming the range and MORE, a MORE button on Telegram only, and a state
 * that survives JSON (it is kept in the database between two messages).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isMoreState,
  Pager,
  type PageItem,
  type TurnReader,
} from '../../src/core/conversation/paging.js';
import { reply } from '../../src/core/i18n/reply.js';

const sms: TurnReader = { channel: 'sms', language: 'en', showOldPounds: false };
const telegram: TurnReader = { ...sms, channel: 'telegram' };

/** Items of two lines each, with a choice. */
const items: PageItem[] = Array.from({ length: 7 }, (_, i) => ({
  replies: [reply('line', { n: i + 1 }), reply('note', { n: i + 1 })],
  choices: [{ key: 'pick', args: { n: i + 1 }, payload: `BILL x ${i + 1}` }],
}));

/** A budget of at most 5 replies. */
const pager = new Pager((turn) => turn.replies.length <= 5);

describe('Pager', () => {
  it('gives whole items that fit, then the footer; MORE gives the rest, each item once', () => {
    let page = pager.first(sms, { head: [reply('head')], items });
    const seen: number[] = [];
    const footers: unknown[] = [];
    for (let round = 0; round < 10; round++) {
      assert.ok(page.replies.length <= 5, JSON.stringify(page.replies));
      seen.push(...page.choices.map((c) => c.args!.n as number));
      const last = page.replies[page.replies.length - 1]!;
      if (!page.more) {
        assert.notEqual(last.key, 'more-footer');
        break;
      }
      assert.equal(last.key, 'more-footer');
      footers.push(last.args);
      assert.equal(page.choices.length, page.choices.filter((c) => c.key === 'pick').length);
      // Kept as JSON in the database between two messages.
      const stored: unknown = JSON.parse(JSON.stringify(page.more));
      assert.ok(isMoreState(stored));
      page = pager.next(sms, stored);
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(footers, [
      { range: '1', count: 7 },
      { range: '2-3', count: 7 },
      { range: '4-5', count: 7 },
    ]);
  });

  it('offers MORE as a button on Telegram, never on SMS', () => {
    const onTelegram = pager.first(telegram, { items });
    // The button names its list: an older message's More must not page a newer list.
    const more = onTelegram.choices.at(-1);
    assert.equal(more?.key, 'choice-more');
    assert.equal(more?.payload, `MORE ${onTelegram.more?.key}`);
    assert.match(more.payload, /^MORE [0-9a-f]{8}$/);
    assert.notEqual(pager.first(telegram, { items }).more?.key, onTelegram.more?.key);
    assert.ok(!pager.first(sms, { items }).choices.some((c) => c.payload.startsWith('MORE')));
  });

  it('shows one item even when it alone is over the budget, and pages nothing without a budget', () => {
    const tiny = new Pager(() => false);
    const page = tiny.first(sms, { items });
    assert.equal(page.choices.length, 1);
    assert.equal(page.more?.from, 2);
    const unpaged = new Pager(null).first(sms, { items });
    assert.equal(unpaged.replies.length, 14);
    assert.equal(unpaged.more, null);
  });

  it("says an item's note after each run of items carrying it, on every page, never counted", () => {
    const cached = reply('bill-cached', { n: 1 });
    const lines: PageItem[] = [
      ...[1, 2, 3, 4].map((n) => ({ replies: [reply('line', { n })], note: cached })),
      { replies: [reply('line', { n: 5 })] },
    ];
    let page = pager.first(sms, { items: lines });
    const pages: string[][] = [];
    for (;;) {
      pages.push(
        page.replies.map((r) => `${r.key}${String((r.args?.n as number | undefined) ?? '')}`),
      );
      if (!page.more) break;
      page = pager.next(sms, page.more);
    }
    assert.deepEqual(pages, [
      ['line1', 'line2', 'line3', 'bill-cached1', 'more-footer'],
      ['line4', 'bill-cached1', 'line5'],
    ]);
  });

  it('fits any other turn: nothing when it fits, else its choices paged under its question', () => {
    const question = reply('need-biller-add');
    const choices = Array.from({ length: 6 }, (_, i) => ({
      key: 'choice-biller',
      payload: `ADD b${i + 1}`,
    }));
    // A budget of at most 3 choices.
    const few = new Pager((turn) => turn.choices.length <= 3);
    assert.equal(few.fit(sms, { replies: [question], choices: choices.slice(0, 3) }), null);
    let page = few.fit(sms, { replies: [question], choices });
    const pages: string[][] = [];
    while (page) {
      assert.equal(page.replies[0], question, 'the question on every page');
      pages.push(page.choices.map((c) => c.payload));
      page = page.more ? few.next(sms, page.more) : null;
    }
    assert.deepEqual(pages, [
      ['ADD b1', 'ADD b2', 'ADD b3'],
      ['ADD b4', 'ADD b5', 'ADD b6'],
    ]);
  });

  it('reads back only a well-formed state', () => {
    assert.equal(
      isMoreState({ items: [{ replies: [{}] }], from: 1, total: 1, choices: [] }),
      false,
    );
    assert.equal(isMoreState({ items: [], from: '1', total: 1, choices: [] }), false);
    assert.equal(isMoreState(null), false);
  });
});
