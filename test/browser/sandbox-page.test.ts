/**
 * The sandbox page in headless Chromium (issue 7): a newcomer pays a demo bill from the
 * Telegram-like phone with its buttons and sees the receipt arrive, and asks for a bill on the
 * feature phone, whose screen shows each message's SMS parts as the server counts them; the
 * simulated wallet's instructions come in the chat's language. Used with the keyboard alone;
 * screenshots in Arabic and English, side by side and at 360 px, go to test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { measureSms } from '../../src/sms/sms-renderer.js';
import { startTasdeed, waitFor, type Running } from '../support/harness.js';
import {
  browserSkipReason,
  CHROMIUM,
  CHROMIUM_ARGS,
  inOrder,
  overflowProblems,
  walkWithKeyboard,
} from './console-support.js';

const SHOTS = 'test-results/screenshots';

/** The texts of a phone's messages, newest last. */
async function messages(page: Page, phone: 'tg' | 'sms'): Promise<string[]> {
  return page.locator(`#${phone}-log .msg .text`).allTextContents();
}

async function waitForMessage(page: Page, phone: 'tg' | 'sms', pattern: RegExp): Promise<string> {
  return waitFor(
    `a message matching ${pattern}`,
    async () => (await messages(page, phone)).find((m) => pattern.test(m)),
    15_000,
  );
}

describe('sandbox page in a browser', { skip: browserSkipReason() }, () => {
  let t: Running;
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startTasdeed();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows two phones, in Arabic, right to left', async () => {
    await page.goto(`${t.url}/sandbox`);
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    assert.equal(await page.textContent('h1'), 'جرّب تسديد');
    await page.waitForSelector('.phone.telegram[data-ready]');
    await page.waitForSelector('.phone.sms[data-ready]');
    const [tg, sms] = await Promise.all([
      page.locator('.phone.telegram').boundingBox(),
      page.locator('.phone.sms').boundingBox(),
    ]);
    assert.ok(tg && sms && Math.abs(tg.y - sms.y) < 2, 'side by side');
    await page.screenshot({ path: `${SHOTS}/sandbox-ar.png`, fullPage: true });
  });

  it('pays a bill on the Telegram phone with its buttons, and the receipt arrives', async () => {
    await page.focus('#tg-input');
    await page.keyboard.type('فاتورة كهرباء 1000101');
    await page.keyboard.press('Enter');
    await waitForMessage(page, 'tg', /^الكهرباء 1000101: /);
    // The bill's buttons, used with the keyboard.
    const pay = page.locator('#tg-log .key', { hasText: 'ادفع' }).last();
    await pay.focus();
    await page.keyboard.press('Enter');
    await waitForMessage(page, 'tg', /^ادفع .+ عبر:$/);
    await page.locator('#tg-log .key', { hasText: 'سيريتل كاش' }).last().click();
    await waitForMessage(page, 'tg', /رقم الهاتف المسجّل في محفظتك/);
    await page.fill('#tg-input', '0944123456');
    await page.press('#tg-input', 'Enter');
    const started = await waitForMessage(page, 'tg', /^الدفعة P-[0-9A-Z]{10}: /);
    const ref = /P-[0-9A-Z]{10}/.exec(started)![0];
    // The simulated wallet's instructions, in Arabic like the rest of the chat.
    await waitForMessage(
      page,
      'tg',
      new RegExp(`^وافق على \\d+ ل\\.س في محفظتك\\. المرجع ${ref}$`),
    );
    // The simulated wallet confirms; the receipt comes through GET /sandbox/messages.
    const receipt = await waitForMessage(page, 'tg', /^إيصال: /);
    assert.match(receipt, new RegExp(`المرجع ${ref}$`));
    assert.match(
      (await page.textContent('#tg-log .msg.later:last-child .meta')) ?? '',
      /وصلت لاحقاً/,
    );
    assert.equal((await t.tasdeed.store.getPayment(ref))?.status, 'succeeded');
    const identity = await t.tasdeed.store.findIdentity(
      'sandbox-telegram',
      (await page.textContent('.phone.telegram [data-from]')) ?? '',
    );
    assert.ok(identity, 'the phone talks as its own sandbox identity');
  });

  it('shows each SMS with its parts on the feature phone, as the server counts them', async () => {
    await page.fill('#sms-input', 'فاتورة مياه 2000301');
    assert.equal(await page.textContent('[data-parts-now]'), '1 (UCS-2)');
    await page.press('#sms-input', 'Enter');
    const bill = await waitForMessage(page, 'sms', /^المياه 2000301: /);
    assert.match(bill, /\n1\) ادفع 2\) تابع$/, 'choices are numbered on SMS');
    const meta = await page.textContent('#sms-log .msg.in:last-child .meta');
    const m = measureSms(bill);
    assert.equal(meta, `أجزاء: ${m.parts} (${m.encoding})`);
    // A long Arabic text the person types counts as several parts before it is sent.
    await page.fill('#sms-input', 'ا'.repeat(71));
    assert.equal(await page.textContent('[data-parts-now]'), '2 (UCS-2)');
    await page.fill('#sms-input', '1');
    await page.press('#sms-input', 'Enter');
    await waitForMessage(page, 'sms', /^دفعة P-[0-9A-Z]{10}: .+ أكّدها من هاتفك\.$/);
    await waitForMessage(page, 'sms', /^إيصال: /);
    await page.screenshot({ path: `${SHOTS}/sandbox-conversation-ar.png`, fullPage: true });
  });

  it('stacks the phones at 360 px wide, without sideways scrolling', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.reload();
    await page.waitForSelector('.phone.sms[data-ready]');
    const [tg, sms] = await Promise.all([
      page.locator('.phone.telegram').boundingBox(),
      page.locator('.phone.sms').boundingBox(),
    ]);
    assert.ok(tg && sms && sms.y >= tg.y + tg.height, 'the SMS phone is below the Telegram one');
    assert.deepEqual(await overflowProblems(page), []);
    await page.fill('#tg-input', 'مساعدة');
    await page.press('#tg-input', 'Enter');
    await waitForMessage(page, 'tg', /فاتورة كهرباء/);
    assert.deepEqual(await overflowProblems(page), []);
    await page.screenshot({ path: `${SHOTS}/sandbox-360-ar.png`, fullPage: true });
  });

  it('is usable with the keyboard alone, with a focus ring on every control', async () => {
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.goto(`${t.url}/sandbox`);
    await page.waitForSelector('.phone.sms[data-ready]');
    const walk = await walkWithKeyboard(page);
    assert.ok(walk.skipShown, 'the first Tab shows "skip to content"');
    assert.ok(inOrder(walk.controls, walk.reached), walk.reached.join(' '));
    assert.deepEqual(walk.unringed, []);
  });

  it('speaks English on request: the page, and the chat of a person who writes in English', async () => {
    // Accounts nobody paid or asked for yet in this file.
    for (const [width, water, telecom] of [
      [1100, '2000601', '3000101'],
      [360, '2000701', '3000201'],
    ] as const) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${t.url}/sandbox?lang=en`);
      assert.equal(await page.getAttribute('html', 'dir'), 'ltr');
      await page.waitForSelector('.phone.telegram[data-ready]');
      // A new person, so that the conversation starts in English.
      await page.click('.phone.telegram [data-reset]');
      await page.click('.phone.sms [data-reset]');
      await page.fill('#tg-input', `PAY water ${water}`);
      await page.press('#tg-input', 'Enter');
      await waitForMessage(page, 'tg', /^Pay .+ with:$/);
      await page.locator('#tg-log .key', { hasText: 'Syriatel Cash' }).last().click();
      await waitForMessage(page, 'tg', /wallet/);
      await page.fill('#tg-input', '0944123456');
      await page.press('#tg-input', 'Enter');
      const started = await waitForMessage(page, 'tg', /^Payment P-[0-9A-Z]{10}: /);
      const ref = /P-[0-9A-Z]{10}/.exec(started)![0];
      await waitForMessage(
        page,
        'tg',
        new RegExp(`^Approve the payment of [\\d,]+ SYP in your wallet app\\. Ref ${ref}$`),
      );
      await page.fill('#sms-input', `BILL telecom ${telecom}`);
      await page.press('#sms-input', 'Enter');
      await waitForMessage(page, 'sms', new RegExp(`^Telecom ${telecom}: `));
      await waitForMessage(page, 'tg', /^Receipt: /);
      assert.deepEqual(await overflowProblems(page), [], `at ${width} px`);
      await page.screenshot({
        path: `${SHOTS}/sandbox${width === 360 ? '-360' : ''}-en.png`,
        fullPage: true,
      });
    }
  });
});
