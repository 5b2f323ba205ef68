/**
 * The staff console in headless Chromium (issue 7): log in with the keyboard, see today's
 * figures and charts, compose a broadcast to sandbox subscribers (live SMS parts, recipients and
 * cost), send it and watch its progress reach 100 % while the past list follows, edit a coverage
 * cell, resolve a held payment; every page used with the keyboard alone, and read at desktop
 * width and at 360 px in Arabic and in English. Screenshots of each go to
 * test-results/screenshots/ (not committed) for a person to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  chromium,
  type Browser,
  type Page,
  type Response as PlaywrightResponse,
} from 'playwright-core';
import { formatMoney } from '../../src/core/money.js';
import type { PrismaStore } from '../../src/db/prisma-store.js';
import { measureSms } from '../../src/sms/sms-renderer.js';
import { SandboxUser, startTasdeed, waitFor, type Running } from '../support/harness.js';
import {
  ADMIN_TOKEN,
  browserSkipReason,
  CHROMIUM,
  CHROMIUM_ARGS,
  heldPayment,
  inOrder,
  overflowProblems,
  walkWithKeyboard,
} from './console-support.js';

const SHOTS = 'test-results/screenshots';
const TEXT =
  'انقطاع مجدول للكهرباء في دمشق يوم الجمعة من الساعة 9 حتى 14. نعتذر عن الإزعاج، وشكراً لصبركم.';

/** Text content without Fluent's bidi isolation marks. */
async function textOf(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? '')
    .replace(/[\u2068\u2069]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('staff console in a browser', { skip: browserSkipReason() }, () => {
  let t: Running;
  let browser: Browser;
  let page: Page;
  let held: string;
  /** A held payment left unresolved, for the pages read afterwards. */
  let heldKept: string;
  let broadcastId: string;
  const dam = [
    new SandboxUser('', 'sms', '+963944200001'),
    new SandboxUser('', 'telegram', 'tg-console-2'),
  ];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startTasdeed();
    // Subscribers: two follow an account in Damascus, one in Aleppo; one payment succeeds
    // today and one is held for staff.
    const users = [
      ...dam.map((u) => new SandboxUser(t.url, u.channel, u.from)),
      new SandboxUser(t.url, 'sms', '+963944200003'),
    ];
    await users[0]!.say('اشترك كهرباء 1000101');
    await users[1]!.say('اشترك كهرباء 1000101');
    await users[2]!.say('اشترك مياه 2000301');
    await users[2]!.say('فاتورة مياه 2000301');
    await users[2]!.say('1');
    await users[2]!.waitForInbox(1);
    held = await heldPayment(t, '1000701');
    heldKept = await heldPayment(t, '1000301');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('logs in with the keyboard and shows today at a glance, with charts', async () => {
    await page.goto(`${t.url}/admin`);
    assert.match(page.url(), /\/admin\/login\?next=%2Fadmin$/);
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    await page.screenshot({ path: `${SHOTS}/login-ar.png` });
    await page.focus('#token');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${t.url}/admin`);
    assert.equal(await textOf(page, 'h1'), 'اليوم في لمحة');
    // The water payment succeeded in Aleppo; the held one is counted as held.
    const water = await textOf(page, '#billers tbody tr:nth-child(2)');
    assert.match(water, /^المياه\s+1\s+1\s+[\d.]+ ل\.س\s+0\s+0\s+0$/);
    assert.match(await textOf(page, '#governorates'), /حلب/);
    // One bar per biller (the water one not empty), one group per channel.
    await page.waitForSelector('#chart-billers svg .ct-bar', { state: 'attached' });
    assert.equal(await page.locator('#chart-billers .ct-bar').count(), 3);
    assert.ok(Number(await page.getAttribute('#chart-billers .ct-bar >> nth=1', 'ct:value')) > 0);
    assert.ok((await page.locator('#chart-messages .ct-bar').count()) >= 3);
    // The first series (a, its colour in the legend) is "sent".
    const sent: number[] = [];
    for (const bar of await page.locator('#chart-messages .ct-series-a .ct-bar').all())
      sent.push(Number(await bar.getAttribute('ct:value')));
    assert.ok(
      sent.some((v) => v > 0),
      'messages sent are drawn in the "sent" series',
    );
    // Readable: each series in its legend's colour, failures in red, labels dark enough.
    const colours = await page.evaluate<string[]>(`['a', 'b', 'c'].flatMap((s) => [
      getComputedStyle(document.querySelector('#chart-messages .ct-series-' + s + ' .ct-bar')).stroke,
      getComputedStyle(document.querySelector('.legend .s-' + s)).backgroundColor,
    ])`);
    assert.equal(colours[0], colours[1], 'sent: bar and legend alike');
    assert.equal(colours[2], colours[3], 'delivered: bar and legend alike');
    assert.equal(colours[4], colours[5], 'failed: bar and legend alike');
    assert.equal(colours[4], 'rgb(179, 38, 30)', 'failed in red');
    assert.equal(new Set([colours[0], colours[2], colours[4]]).size, 3);
    const label = await page.evaluate<string>(
      `getComputedStyle(document.querySelector('#chart-billers .ct-label')).color`,
    );
    assert.equal(label, 'rgb(86, 96, 107)', 'axis labels in the muted ink, not faint grey');
    assert.match(await textOf(page, '#billers-h ~ figure figcaption'), /ل\.س/);
    await page.screenshot({ path: `${SHOTS}/today-ar.png`, fullPage: true });
  });

  it('composes a broadcast with live parts, recipients and cost, sends it and watches it reach 100 %, the past list too', async () => {
    await page.click('nav >> text=الرسائل الجماعية');
    await page.waitForURL(/\/admin\/console\/broadcasts$/);
    await page.fill('#text-ar', TEXT);
    const parts = measureSms(TEXT).parts;
    assert.ok(parts >= 2, 'a text long enough to take several parts');
    assert.equal(await textOf(page, '[data-sms-counter="text-ar"] [data-parts]'), String(parts));
    assert.equal(await textOf(page, '[data-sms-counter="text-ar"] [data-encoding]'), 'UCS-2');

    await page.check('#governorates input[value="DAM"]');
    const audience = { governorates: ['DAM'] };
    const expected = await t.tasdeed.broadcasts.preview({ text: { ar: TEXT }, audience });
    assert.equal(expected.recipients, 2);
    await waitFor('the recipient count', async () =>
      (await textOf(page, '#preview-recipients')) === '2' ? true : null,
    );
    await waitFor('the cost', async () =>
      (await textOf(page, '#preview-total')) === String(expected.smsPartsTotal) ? true : null,
    );
    assert.equal(await textOf(page, '#preview-parts'), String(parts));
    // Quiet hours would hold a broadcast back: this one is urgent.
    await page.check('input[name="urgent"]');
    await page.screenshot({ path: `${SHOTS}/broadcasts-compose-ar.png`, fullPage: true });

    // The outbox holds the messages back until the page shows the broadcast under way.
    await t.tasdeed.dispatcher.stop();
    await page.click('button[value="send"]');
    await page.waitForURL(/\/admin\/console\/broadcasts\?watch=B-[\w-]+#progress$/);
    broadcastId = new URL(page.url()).searchParams.get('watch')!;
    const row = `#past tr[data-broadcast="${broadcastId}"]`;
    await waitFor('the broadcast being sent', async () =>
      (await textOf(page, '#progress-status')) === 'قيد الإرسال' ? true : null,
    );
    assert.equal(await textOf(page, '#progress-pct'), '0 %');
    await waitFor('its row being sent', async () =>
      (await textOf(page, `${row} [data-cell="status"]`)) === 'قيد الإرسال' ? true : null,
    );
    assert.equal(await textOf(page, `${row} [data-cell="percent"]`), '(0 %)');
    assert.equal(await textOf(page, `${row} [data-cell="sent"]`), '0');
    assert.ok(await page.isVisible('#cancel-form button'), 'it can be cancelled while it runs');
    await page.screenshot({ path: `${SHOTS}/broadcasts-sending-ar.png`, fullPage: true });

    t.tasdeed.dispatcher.start();
    await waitFor(
      'the progress bar at 100 %',
      async () => ((await textOf(page, '#progress-pct')) === '100 %' ? true : null),
      20_000,
    );
    assert.equal(await page.getAttribute('#progress-bar', 'value'), '100');
    await waitFor('the broadcast done', async () =>
      (await textOf(page, '#progress-status')) === 'اكتملت' ? true : null,
    );
    assert.equal(await textOf(page, '[data-count="sent"]'), '2');
    assert.ok(!(await page.isVisible('#cancel-form button')), 'nothing left to cancel');
    // The past list, without reloading the page, shows the same state and result.
    await waitFor('its row done', async () =>
      (await textOf(page, `${row} [data-cell="status"]`)) === 'اكتملت' ? true : null,
    );
    assert.equal(await textOf(page, `${row} [data-cell="percent"]`), '(100 %)');
    assert.equal(await textOf(page, `${row} [data-cell="sent"]`), '2');
    assert.equal(await textOf(page, `${row} [data-cell="failed"]`), '0');
    assert.equal(await textOf(page, `${row} [data-cell="recipients"]`), '2');
    await page.screenshot({ path: `${SHOTS}/broadcasts-progress-ar.png`, fullPage: true });

    const [record] = await t.tasdeed.broadcasts.list(1);
    // Both Damascus subscribers were sent the text (read from the outbox: GET /sandbox/messages
    // lists replies and receipts only, see the report).
    const rows = await (t.tasdeed.store as PrismaStore).read((db) =>
      db.outboxItem.findMany({ where: { broadcastId: record!.id } }),
    );
    const sentTo = await Promise.all(
      rows.map(async (r) => {
        const identity = await t.tasdeed.store.getIdentity(r.identityId ?? '');
        return [identity?.address, r.status, r.text];
      }),
    );
    assert.deepEqual(sentTo.sort(), dam.map((u) => [u.from, 'sent', TEXT]).sort());
    assert.equal(record?.createdBy, 'staff:console');
    assert.equal(record?.urgent, true);
    await page.reload();
    assert.match(await textOf(page, '#past tbody tr:first-child'), /انقطاع مجدول/);
    assert.match(await textOf(page, `${row} td.status`), /^اكتملت \(100 %\)$/);
  });

  it('edits a coverage cell, and the change is stored', async () => {
    await page.click('nav >> text=التغطية');
    await page.waitForURL(/\/admin\/console\/coverage$/);
    const cell = '#cell-electricity-DEZ';
    assert.equal(await page.getAttribute(cell, 'aria-pressed'), 'true');
    await page.focus(cell);
    await page.keyboard.press('Enter');
    await page.waitForURL(/saved=1/);
    assert.equal(await page.getAttribute(cell, 'aria-pressed'), 'false');
    const stored = await t.tasdeed.store.getCoverage('electricity', 'DEZ');
    assert.equal(stored?.available, false);
    assert.equal(stored?.updatedBy, 'staff:console');
    assert.match(await textOf(page, '#changes-h + ul'), /الكهرباء \/\s*دير الزور: غير متاح/);
    await page.screenshot({ path: `${SHOTS}/coverage-ar.png`, fullPage: true });
  });

  it('shows a held payment with its audit trail and resolves it', async () => {
    await page.click('nav >> text=دفعات معلّقة');
    await page.waitForURL(/\/admin\/console\/held$/);
    const article = `#held-${held}`;
    await page.click(`${article} summary`);
    // The trail in words: what happened, who did it, the states, amounts as money.
    const confirmed = (await t.tasdeed.store.getPayment(held))!.confirmedAmountMinor!;
    assert.equal(
      await textOf(page, `${article} .audit li`),
      `${await textOf(page, `${article} .audit time`)} · إشعار من قناة الدفع · channel:syriatel-cash · أُنشئت ← معلّقة amountMinor: ${formatMoney(confirmed, 'ar')}`,
    );
    assert.match(await textOf(page, `${article} .facts`), /المبلغ المؤكَّد لا يطابق الفاتورة/);
    await page.screenshot({ path: `${SHOTS}/held-ar.png`, fullPage: true });
    await page.check(`${article} input[value="failed"]`);
    await page.fill(`${article} textarea`, 'أعادت المحفظة المبلغ');
    await page.click(`${article} button[type="submit"]`);
    await page.waitForURL(/resolved=/);
    assert.equal((await t.tasdeed.store.getPayment(held))?.status, 'failed');
    assert.match(await textOf(page, '[role="status"]'), new RegExp(`سُوّيت الدفعة ${held}`));
  });

  it('is usable with the keyboard alone: every control in reach, in page order, with a focus ring', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    for (const path of [
      '/admin?lang=ar',
      `/admin/console/broadcasts?watch=${broadcastId}`,
      '/admin/console/coverage',
      '/admin/console/held',
      '/admin?lang=en',
    ]) {
      await page.goto(`${t.url}${path}`);
      await page.evaluate(`document.querySelectorAll('details').forEach((d) => (d.open = true))`);
      const walk = await walkWithKeyboard(page);
      assert.ok(walk.controls.length > 5, `${path}: ${walk.controls.length} controls`);
      assert.ok(walk.skipShown, `${path}: the first Tab shows "skip to content"`);
      assert.ok(
        inOrder(walk.controls, walk.reached),
        `${path}: Tab reached ${walk.reached.join(' ')} of ${walk.controls.join(' ')}`,
      );
      assert.deepEqual(walk.unringed, [], `${path}: focus shown on every control`);
    }
    // The logged-out login page too.
    const context = await browser.newContext();
    const login = await context.newPage();
    await login.goto(`${t.url}/admin/login`);
    const walk = await walkWithKeyboard(login);
    assert.ok(inOrder(walk.controls, walk.reached), walk.reached.join(' '));
    assert.deepEqual(walk.unringed, []);
    await context.close();
  });

  it('reads at desktop width and at 360 px, in Arabic and in English, without sideways scrolling', async () => {
    const pages: Array<[string, string]> = [
      ['/admin', 'today'],
      ['/admin/console/broadcasts', 'broadcasts'],
      [`/admin/console/broadcasts?watch=${broadcastId}`, 'broadcasts-progress'],
      ['/admin/console/coverage', 'coverage'],
      ['/admin/console/held', 'held'],
    ];
    const context = await browser.newContext();
    const outside = await context.newPage();
    for (const lang of ['ar', 'en'] as const) {
      for (const width of [1280, 360]) {
        const suffix = `${width === 360 ? '-360' : ''}-${lang}`;
        for (const p of [page, outside]) await p.setViewportSize({ width, height: 800 });
        await outside.goto(`${t.url}/admin/login?lang=${lang}`);
        assert.equal(await outside.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
        assert.deepEqual(await overflowProblems(outside), [], `login${suffix}`);
        await outside.screenshot({ path: `${SHOTS}/login${suffix}.png`, fullPage: true });
        for (const [path, name] of pages) {
          await page.goto(`${t.url}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
          assert.equal(await page.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
          if (name === 'today')
            await page.waitForSelector('#chart-billers svg', { state: 'attached' });
          if (name === 'held') {
            assert.ok(await page.isVisible(`#held-${heldKept}`));
            await page.evaluate(
              `document.querySelectorAll('details').forEach((d) => (d.open = true))`,
            );
          }
          assert.deepEqual(await overflowProblems(page), [], `${name}${suffix}`);
          await page.screenshot({ path: `${SHOTS}/${name}${suffix}.png`, fullPage: true });
        }
      }
    }
    await context.close();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${t.url}/admin?lang=ar`);
  });

  it('stays light: what each page transfers on a first visit', async () => {
    const weights: Record<string, number> = {};
    const context = await browser.newContext();
    const fresh = await context.newPage();
    const cdp = await context.newCDPSession(fresh);
    // What the page itself weighs: the document, its styles and scripts (not the live
    // requests its scripts make afterwards).
    const sizes: Array<Promise<number>> = [];
    const onResponse = (res: PlaywrightResponse) => {
      if (
        !['document', 'stylesheet', 'script', 'image', 'font'].includes(
          res.request().resourceType(),
        )
      )
        return;
      sizes.push(
        res
          .request()
          .sizes()
          .then((s) => s.responseBodySize + s.responseHeadersSize)
          .catch(() => 0),
      );
    };
    fresh.on('response', onResponse);
    for (const path of [
      '/admin/login',
      '/admin',
      '/admin/console/broadcasts',
      '/admin/console/coverage',
      '/admin/console/held',
      '/sandbox',
    ]) {
      if (path === '/admin') await context.addCookies(await page.context().cookies());
      // Nothing cached: every page as on a first visit.
      await cdp.send('Network.clearBrowserCache');
      sizes.length = 0;
      await fresh.goto(`${t.url}${path}`, { waitUntil: 'load' });
      const bytes = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
      weights[path] = Math.round(bytes / 102.4) / 10;
      // Each page, with its scripts, styles and headers, in well under 60 KB on the wire.
      assert.ok(bytes < 60_000, `${path}: ${bytes} bytes`);
    }
    fresh.off('response', onResponse);
    await context.close();
    writeFileSync('test-results/page-weight.json', `${JSON.stringify(weights, null, 2)}\n`);
  });
});
