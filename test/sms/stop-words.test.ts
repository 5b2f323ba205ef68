import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCatalogue } from '../../src/config/catalogue.js';
import { Grammar } from '../../src/core/conversation/grammar.js';
import { smsKeyword } from '../../src/sms/stop-words.js';

const loaded = loadCatalogue(null);
if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
const grammar = new Grammar(loaded.catalogue);

describe('smsKeyword', () => {
  it('knows STOP in Arabic and English, however it is written', () => {
    for (const text of [
      'STOP',
      'stop',
      ' Stop. ',
      'إيقاف',
      'ايقاف',
      'إيـقـاف',
      'UNSUBSCRIBE',
      'STOPALL',
      'stop all',
      'توقف',
      'إلغاء الاشتراك',
      'OPTOUT',
    ]) {
      assert.equal(smsKeyword(text, grammar), 'stop', text);
    }
  });

  it('knows START and HELP in Arabic and English', () => {
    for (const text of ['START', 'start!', 'بدء', 'ابدأ', 'UNSTOP']) {
      assert.equal(smsKeyword(text, grammar), 'start', text);
    }
    for (const text of ['HELP', 'help', 'مساعدة', 'مساعده', '؟', '?', 'INFO']) {
      assert.equal(smsKeyword(text, grammar), 'help', text);
    }
  });

  it('is only the whole message', () => {
    for (const text of ['stop sending me bills', 'فاتورة كهرباء 1234567', 'help me pay', '']) {
      assert.equal(smsKeyword(text, grammar), null, text);
    }
  });

  it('takes YES / نعم as START only from a number that is opted out', () => {
    assert.equal(smsKeyword('YES', grammar), null);
    assert.equal(smsKeyword('YES', grammar, { optedOut: true }), 'start');
    assert.equal(smsKeyword('نعم', grammar, { optedOut: true }), 'start');
  });

  it('leaves CANCEL to the conversation (it cancels a pending choice)', () => {
    assert.equal(smsKeyword('CANCEL', grammar), null);
    assert.equal(smsKeyword('الغاء', grammar), null);
  });
});
