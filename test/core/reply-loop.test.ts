/** The auto-responder loop rule, on its own: what is exempt, and the window and hour edges. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LOOP_SILENCE_MS,
  LOOP_WINDOW_MS,
  isLoopExempt,
  loopKey,
  loopVerdict,
  type RecentReply,
} from '../../src/core/conversation/reply-loop.js';

const T = new Date('2027-01-10T09:00:00.000Z');
const at = (ms: number) => new Date(T.getTime() + ms);

describe('isLoopExempt', () => {
  for (const text of [
    '1',
    ' 12 ',
    '١٠٠٠١٠١',
    '100 01 01',
    '+963 944 123 456',
    'MORE',
    'more.',
    'المزيد',
    'مزيد!',
  ]) {
    it(`${JSON.stringify(text)} is never a loop`, () =>
      assert.equal(isLoopExempt(text, false), true));
  }
  for (const text of ['Thank you', 'BILL elec 1000101', 'more please', 'P-1234']) {
    it(`${JSON.stringify(text)} may be`, () => assert.equal(isLoopExempt(text, false), false));
  }
  it('a whole-message keyword the front recognised is never a loop', () => {
    assert.equal(isLoopExempt('Stop.', true), true);
  });
});

describe('loopKey', () => {
  it('is the same for the same text as read (case, spaces, letter forms) and the same reply', () => {
    const reply = { key: 'help-short' };
    assert.equal(loopKey('Thank  YOU', reply), loopKey('thank you', reply));
    assert.equal(loopKey('أهلا', reply), loopKey('اهلا', reply));
    assert.notEqual(loopKey('thank you', reply), loopKey('thanks', reply));
    assert.notEqual(loopKey('thank you', reply), loopKey('thank you', { key: 'welcome' }));
  });
});

describe('loopVerdict', () => {
  const K = 'k';
  const answered = (ms: number, key = K): RecentReply => ({
    at: at(ms),
    loopKey: key,
    withheld: false,
  });
  const withheld = (ms: number): RecentReply => ({ at: at(ms), loopKey: K, withheld: true });

  it('answers until two replies in a row answered the text that way, the first within 10 minutes', () => {
    assert.equal(loopVerdict([], K, T), 'answer');
    assert.equal(loopVerdict([answered(-60_000)], K, T), 'answer');
    assert.equal(loopVerdict([answered(-60_000), answered(-LOOP_WINDOW_MS)], K, T), 'withhold');
    assert.equal(loopVerdict([answered(-60_000), answered(-LOOP_WINDOW_MS - 1)], K, T), 'answer');
    assert.equal(loopVerdict([answered(-60_000), answered(-120_000, 'other')], K, T), 'answer');
    assert.equal(loopVerdict([answered(-60_000, 'other'), answered(-120_000)], K, T), 'answer');
  });

  it('stays silent for an hour after a withheld reply, for that text only', () => {
    assert.equal(
      loopVerdict([withheld(-LOOP_SILENCE_MS + 1), answered(-LOOP_SILENCE_MS - 60_000)], K, T),
      'silent',
    );
    assert.equal(loopVerdict([withheld(-LOOP_SILENCE_MS)], K, T), 'answer');
    assert.equal(loopVerdict([withheld(-60_000)], 'other', T), 'answer');
  });
});
