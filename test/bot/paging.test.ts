/**
 * Long answers on Telegram, end to end through the fake Bot API (found by review: untested).
 * /accounts offers each account's bill and stop-following buttons; 14 followed accounts are more
 * than one message's 12 buttons, so the answer is paged with a More button, and the buttons of
 * a page are those of the accounts it shows (they used to be 8 stop-following buttons added to
 * the first page whatever it showed). More is tied to the list it was sent with: pressed after
 * the list was asked for again, it says the list changed instead of paging the newer one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  buttons,
  plain,
  startTelegram,
  TelegramUser,
  type RestartableRig,
  type Sent,
} from '../support/telegram.js';

/** The simulated biller's electricity accounts, one per governorate: 1000101 … 1001401. */
const ACCOUNTS = Array.from({ length: 14 }, (_, i) => `100${String(i + 1).padStart(2, '0')}01`);

/** Accounts a message's text names, in order. */
const named = (message: Sent) => plain(message.text).match(/\b100\d{2}01\b/g) ?? [];
const moreOf = (message: Sent) => buttons(message).find((b) => b.startsWith('MORE'));

describe('Telegram: a long answer is paged with a More button tied to its list', () => {
  let rig: RestartableRig;
  const u = () => new TelegramUser(rig, 930_001, 'en');
  let user: TelegramUser;

  before(async () => {
    rig = await startTelegram({ env: { TASDEED_MAX_FOLLOWS: '20' } });
    user = u();
    for (const account of ACCOUNTS) {
      assert.match(plain((await user.say(`ADD electricity ${account}`)).text), /^Following /);
    }
  });
  after(async () => {
    await rig.close();
  });

  it('/accounts: pages of at most 12 buttons, for the accounts shown; More gives the rest once', async () => {
    let page = await user.say('/accounts');
    assert.match(plain(page.text), /^Your accounts \(14\):/);
    const shown: string[] = [];
    const removable: string[] = [];
    for (let pages = 1; ; pages++) {
      const accounts = named(page);
      shown.push(...accounts);
      const pressable = buttons(page);
      assert.ok(pressable.length <= 12, `${pressable.length} buttons: ${pressable.join(', ')}`);
      const remove = pressable.filter((b) => b.startsWith('REMOVE '));
      assert.deepEqual(
        remove,
        accounts.map((a) => `REMOVE electricity ${a}`),
        'a stop-following button for each account shown, and no other',
      );
      removable.push(...remove);
      const more = moreOf(page);
      if (!more) break;
      const from = shown.length - accounts.length + 1;
      const range = accounts.length > 1 ? `${from}-${shown.length}` : `${shown.length}`;
      assert.ok(plain(page.text).endsWith(`\n${range} of 14, MORE`), page.text);
      assert.ok(pages < 10, 'pages end');
      page = await user.press(more);
    }
    assert.deepEqual(shown, ACCOUNTS, 'every account once, in order');
    assert.equal(removable.length, 14);
  });

  it("an older list's More says the list changed, and leaves the newer list's paging alone", async () => {
    const first = await user.say('/accounts');
    const oldMore = moreOf(first);
    assert.ok(oldMore, 'paged');
    const second = await user.say('/accounts');
    const newMore = moreOf(second);
    assert.ok(newMore && newMore !== oldMore, 'each list has its own More');
    assert.equal(
      plain((await user.press(oldMore)).text),
      'This list has changed. Send the command again.',
    );
    const next = await user.press(newMore);
    assert.equal(named(next)[0], ACCOUNTS[named(second).length], 'the newer list goes on');
  });
});
