import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hasControlCharacters,
  parseStorableJson,
  storableText,
  storableValue,
} from '../../src/core/text/storable.js';

describe('storableText', () => {
  it('removes NUL and lone surrogates, and keeps everything else', () => {
    const cases: Array<[string, string]> = [
      ['HELP\u0000x', 'HELPx'],
      ['\u0000\u0000', ''],
      ['a\ud800b', 'ab'],
      ['a\udc00b', 'ab'],
      ['\ud800\ud83d\ude00', '\ud83d\ude00'],
      ['\ud83d\ude00\udc00', '\ud83d\ude00'],
      ['👨‍👩‍👧‍👦 🇸🇾', '👨‍👩‍👧‍👦 🇸🇾'],
      [
        'فاتورة\u0001\u001f\u007f\u0085\u200f كهرباء',
        'فاتورة\u0001\u001f\u007f\u0085\u200f كهرباء',
      ],
      ['\ufffd\uffff\u{10ffff}', '\ufffd\uffff\u{10ffff}'],
      ['', ''],
    ];
    for (const [input, expected] of cases)
      assert.equal(storableText(input), expected, JSON.stringify(input));
  });

  it('gives text whose UTF-8 bytes read back the same', () => {
    const text = storableText('x\ud800y\u0000z\udfff');
    assert.equal(Buffer.from(text, 'utf8').toString('utf8'), text);
  });
});

describe('storableValue and parseStorableJson', () => {
  it('clean every string value at any depth, and leave other values and keys alone', () => {
    const value = {
      text: 'a\u0000b',
      list: ['\ud800', 1, null, true, { deep: 'c\u0000' }],
      n: 3_000_000_000,
      'k\u0000': 'v',
    };
    const expected = {
      text: 'ab',
      list: ['', 1, null, true, { deep: 'c' }],
      n: 3_000_000_000,
      'k\u0000': 'v',
    };
    assert.deepEqual(storableValue(value), expected);
    assert.deepEqual(parseStorableJson(JSON.stringify(value)), expected);
  });

  it('keeps a "__proto__" key a key', () => {
    const cleaned = storableValue(JSON.parse('{"__proto__": {"polluted": "x\\u0000"}}') as object);
    assert.equal(Object.getPrototypeOf(cleaned), Object.prototype);
    assert.deepEqual(Object.keys(cleaned), ['__proto__']);
    assert.equal((cleaned as { polluted?: unknown }).polluted, undefined);
  });

  it('throws on invalid JSON as JSON.parse does', () => {
    assert.throws(() => parseStorableJson('{'), SyntaxError);
  });
});

describe('hasControlCharacters', () => {
  it('finds C0, DEL and C1 controls, not other characters', () => {
    for (const id of ['P-\u0000', '\u0001', 'B-\u001f', '\u007f', '\u0085x', 'a\nb'])
      assert.ok(hasControlCharacters(id), JSON.stringify(id));
    for (const id of ['P-ABCDEFGH12', 'B-5f0c', 'كهرباء 1234', '\u200f', ''])
      assert.ok(!hasControlCharacters(id), JSON.stringify(id));
  });
});
