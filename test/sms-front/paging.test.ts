/**
 * One inbound SMS never costs more than 3 parts (found by an outside review: 42 follows, then
 * one BILL, made 14 SMS): a number follows at most TASDEED_MAX_FOLLOWS accounts (the next ADD
 * is refused and nothing is stored), and a long answer is paged, "1-3 of 10, MORE", the rest
 * coming on MORE / المزيد, kept in the database so that a restart loses nothing. Parts are
 * counted at the fake Twilio, as the carrier bills them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { measureSms } from '../../src/sms/sms-renderer.js';
import { smsTurn, startSms, type SmsRig } from './rig.js';

/** Electricity accounts of the simulated biller, one per governorate (DAM … QUN). */
const ACCOUNTS = Array.from({ length: 11 }, (_, i) => `100${String(i + 1).padStart(2, '0')}01`);

const TEXTS = {
  ar: {
    add: (a: string) => `اشترك كهرباء ${a}`,
    bill: 'فاتورة',
    more: 'المزيد',
    full: /^بلغتَ الحد الأقصى للحسابات المتابَعة \(10\)\. أرسل حساباتي لترى ما تحذفه$/,
    footer: /(\d+)-(\d+) من 10، أرسل المزيد$/,
    nothing: /^لا مزيد/,
  },
  en: {
    add: (a: string) => `ADD elec ${a}`,
    bill: 'BILL',
    more: 'MORE',
    full: /^You follow the most accounts allowed \(10\)\. Send ACCOUNTS to see which to remove/,
    footer: /(\d+)-(\d+) of 10, MORE$/,
    nothing: /^Nothing more/,
  },
} as const;

describe('SMS: followed accounts are capped, long answers are paged', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms(
      // Enough replies in the hour for ten ADDs and the pages after them.
      { SMS_REPLIES_PER_HOUR: '60' },
      { dir: mkdtempSync(join(tmpdir(), 'tasdeed-paging-')) },
    );
  });
  after(async () => {
    await rig.close();
  });

  /** Sends a text; returns the SMS the turn cost (at most 3 parts), once everything is out. */
  const turn = (from: string, text: string) => smsTurn(rig, from, text);

  async function followsOf(from: string): Promise<string[]> {
    const identity = await rig.t.tasdeed.store.findIdentity('sms', from);
    assert.ok(identity);
    return (await rig.t.tasdeed.store.followsOf(identity.subscriberId)).map((f) => f.account);
  }

  async function followTen(from: string, lang: 'ar' | 'en'): Promise<void> {
    for (const account of ACCOUNTS.slice(0, 10)) await turn(from, TEXTS[lang].add(account));
    assert.deepEqual(await followsOf(from), ACCOUNTS.slice(0, 10));
  }

  /** Accounts named in texts, in order. */
  const accountsIn = (texts: string[]) => texts.join('\n').match(/\b100\d{4}\b/g) ?? [];

  for (const lang of ['ar', 'en'] as const) {
    const from = lang === 'ar' ? '+963944500001' : '+963944500002';

    it(`(${lang}) refuses the 11th ADD clearly and stores nothing`, async () => {
      await followTen(from, lang);
      const refused = await turn(from, TEXTS[lang].add(ACCOUNTS[10]!));
      assert.equal(refused.length, 1);
      assert.match(refused[0]!, TEXTS[lang].full);
      assert.deepEqual(await followsOf(from), ACCOUNTS.slice(0, 10), 'nothing stored');
      // One already followed is still answered as such, not refused.
      assert.doesNotMatch(
        (await turn(from, TEXTS[lang].add(ACCOUNTS[0]!))).join('\n'),
        TEXTS[lang].full,
      );
    });

    it(`(${lang}) BILL over 10 accounts costs at most 3 parts; MORE gives the rest, each once`, async () => {
      const shown: string[] = [];
      let page = await turn(from, TEXTS[lang].bill);
      let pages = 1;
      for (;;) {
        shown.push(...accountsIn(page));
        const footer = TEXTS[lang].footer.exec(page[page.length - 1]!);
        if (!footer) break;
        assert.equal(Number(footer[2]), shown.length, `footer ${footer[0]} after ${shown.length}`);
        assert.ok(pages < 10, 'pages end');
        page = await turn(from, TEXTS[lang].more);
        pages++;
      }
      assert.ok(pages > 1, 'the answer was paged');
      assert.deepEqual(shown, ACCOUNTS.slice(0, 10), 'every account once, in follow order');
      assert.match((await turn(from, TEXTS[lang].more)).join('\n'), TEXTS[lang].nothing);
    });
  }

  it('ACCOUNTS is paged too, with numbered choices that answer for the page shown', async () => {
    const from = '+963944500001';
    const first = await turn(from, 'حساباتي');
    assert.match(first.join('\n'), /^حساباتك \(10\):/);
    const last = first[first.length - 1]!;
    assert.match(last, /1\) ?الكهرباء 1000101/);
    const footer = /(\d+)-(\d+) من 10، أرسل المزيد/.exec(first.join('\n'));
    assert.ok(footer, JSON.stringify(first));
    const second = await turn(from, 'المزيد');
    const next = `100${String(Number(footer[2]) + 1).padStart(2, '0')}01`;
    assert.match(second.join('\n'), new RegExp(`1\\) ?الكهرباء ${next}`));
    // "1" now means the first account of the page shown.
    assert.match((await turn(from, '1')).join('\n'), new RegExp(`^الكهرباء ${next}: `));
  });

  it('MORE continues where the page ended after a restart', async () => {
    const from = '+963944500003';
    await followTen(from, 'ar');
    const first = await turn(from, 'فاتورة');
    const shown = accountsIn(first);
    await rig.restart();
    const second = await turn(from, 'المزيد');
    assert.equal(accountsIn(second)[0], ACCOUNTS[shown.length], JSON.stringify(second));
  });

  it('MORE with nothing left to show is answered in one part', async () => {
    for (const [from, more, nothing] of [
      ['+963944500004', 'المزيد', TEXTS.ar.nothing],
      ['+963944500005', 'MORE', TEXTS.en.nothing],
    ] as const) {
      const answer = await turn(from, more);
      assert.equal(answer.length, 1);
      assert.equal(measureSms(answer[0]!).parts, 1);
      assert.match(answer[0]!, nothing);
    }
  });
});
