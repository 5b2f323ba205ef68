/**
 * Bills are paged line by line over SMS (found by review after the paging went in): an account
 * with many unpaid bills was one page entry, shown whole whatever it cost (5 unpaid bills: 5
 * parts for one BILL), and a biller's "last known bill" note was an entry of its own, counted
 * in "of 5" and pushed to a later page than the bills it speaks for. Now each bill line is an
 * entry naming its account, and the note is said on every page that shows those lines. Against
 * the HTTP biller protocol, parts counted at the fake Twilio.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import { daysFromToday, httpCatalogue } from '../support/harness.js';
import { smsTurn, startSms, type SmsRig } from './rig.js';

const PERIODS = ['1-2', '3-4', '5-6', '7-8', '9-10'];
/** The SMS footer of a page (numbered choices may follow): "1-3 من 5، أرسل المزيد". */
const FOOTER = /^(?:(\d+)-)?(\d+) من (\d+)، أرسل المزيد$/m;
const NOTE = /آخر فاتورة معروفة .*؛ الجهة لا تستجيب الآن\./;

describe('SMS: bills are paged line by line, with their note on every page', () => {
  let biller: FakeBiller;
  let rig: SmsRig;

  /** An account of the fake biller with one unpaid bill per period. */
  function account(number: string, periods: string[]): string {
    biller.addAccount({
      account: number,
      holder: 'سامر يوسف الحلبي',
      governorate: 'DAM',
      bills: periods.map((period, i) => ({
        id: `B-${number}-${i}`,
        period,
        amountMinor: 1_000_000 + i * 12_500,
        dueDate: daysFromToday(20).iso,
        status: 'unpaid' as const,
      })),
    });
    return number;
  }

  before(async () => {
    biller = await startFakeBiller();
    rig = await startSms(
      { SMS_REPLIES_PER_HOUR: '60' },
      {
        catalogue: httpCatalogue({
          billerUrl: biller.url,
          paymentUrl: 'http://127.0.0.1:9',
          webhookSecret: 'whsec-test-0123456789',
        }),
      },
    );
  });
  after(async () => {
    await rig.close();
    await biller.close();
  });

  /**
   * Sends `text`, then MORE until the last page: every page within 3 parts, its footer counting
   * the bill lines; returns the pages and the periods of the account's lines, in order.
   */
  async function allPages(from: string, text: string, number: string, lines: number) {
    const pages: string[] = [];
    const periods: string[] = [];
    let page = (await smsTurn(rig, from, text)).join('\n');
    for (;;) {
      pages.push(page);
      const shown = [...page.matchAll(new RegExp(`${number}: [^،\\n]+، (\\d+-\\d+)،`, 'g'))];
      periods.push(...shown.map((m) => m[1]!));
      const footer = FOOTER.exec(page);
      if (!footer) break;
      assert.equal(Number(footer[3]), lines, `"of ${lines}", the bill lines: ${page}`);
      assert.equal(Number(footer[2]), periods.length, `footer after ${periods.length}: ${page}`);
      assert.ok(pages.length < 10, 'pages end');
      page = (await smsTurn(rig, from, 'المزيد')).join('\n');
    }
    return { pages, periods };
  }

  it('an account with 5 unpaid bills: at most 3 parts a page, MORE gives the rest, each once', async () => {
    const from = '+963944600001';
    const number = account('900101', PERIODS);
    assert.match((await smsTurn(rig, from, `اشترك كهرباء ${number}`)).join('\n'), /تمت متابعة/);
    for (const text of ['فاتورة', `فاتورة كهرباء ${number}`]) {
      const { pages, periods } = await allPages(from, text, number, 5);
      assert.ok(pages.length > 1, `${text}: paged`);
      assert.deepEqual(periods, PERIODS, `${text}: every bill once, in order`);
    }
  });

  it('the biller down: every page says the bills are the last known, and "of" counts bills', async () => {
    const from = '+963944600002';
    const number = account('900102', PERIODS.slice(0, 4));
    assert.match((await smsTurn(rig, from, `اشترك كهرباء ${number}`)).join('\n'), /تمت متابعة/);
    biller.down = true;
    try {
      for (const text of [`فاتورة كهرباء ${number}`, 'فاتورة']) {
        const { pages, periods } = await allPages(from, text, number, 4);
        assert.ok(pages.length > 1, `${text}: paged`);
        assert.deepEqual(periods, PERIODS.slice(0, 4), `${text}: every bill once, in order`);
        for (const page of pages) assert.match(page, NOTE, `${text}: the note on ${page}`);
      }
    } finally {
      biller.down = false;
    }
  });
});
