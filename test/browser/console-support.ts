/**
 * Helpers for the console's tests (test/e2e/console-*.test.ts, test/browser/*.test.ts): a
 * console login over plain HTTP, a payment held for staff, and Chromium when it is installed.
 */
import { existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import type { Page } from 'playwright-core';
import { qirsh } from '../../src/core/money.js';
import { SandboxUser, type Running } from '../support/harness.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const CHROMIUM = '/usr/bin/chromium';

/** Launch options as shared STACK.md gives them. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests cannot run here, or false when they can. */
export function browserSkipReason(): string | false {
  return existsSync(CHROMIUM)
    ? false
    : `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium) to run the browser tests`;
}

export interface ConsoleClient {
  /** The Cookie header value carrying the session. */
  cookie: string;
  /** The session's CSRF token (as the pages' forms carry it). */
  csrf: string;
}

/** The Set-Cookie values of a response as one Cookie header. */
export function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

export function csrfIn(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no _csrf field in the page');
  return m[1]!;
}

/** The login form's cookie and token. */
export async function loginForm(url: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${url}/admin/login`);
  return { cookie: cookiesOf(res), csrf: csrfIn(await res.text()) };
}

export function postForm(
  url: string,
  path: string,
  cookie: string,
  fields: Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields))
    for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return fetch(`${url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie, ...headers },
    body,
  });
}

/** Logs in as staff would, and reads the session's CSRF token from a page. */
export async function consoleLogin(url: string, token = ADMIN_TOKEN): Promise<ConsoleClient> {
  const form = await loginForm(url);
  const res = await postForm(url, '/admin/login', form.cookie, { _csrf: form.csrf, token });
  if (res.status !== 303) throw new Error(`login answered ${res.status}`);
  const cookie = cookiesOf(res);
  const page = await fetch(`${url}/admin/console/held`, { headers: { Cookie: cookie } });
  if (page.status !== 200) throw new Error(`console page answered ${page.status}`);
  return { cookie, csrf: csrfIn(await page.text()) };
}

/**
 * A payment held for staff (an amount mismatch), as the payment service would leave it: a
 * sandbox subscriber's bill, the payment row, and its audit entries.
 */
export async function heldPayment(t: Running, account = '1000201'): Promise<string> {
  const store = t.tasdeed.store;
  const user = new SandboxUser(t.url, 'sms', `+96394${randomInt(1_000_000, 9_999_999)}`);
  await user.say(`فاتورة كهرباء ${account}`);
  const identity = await store.findIdentity('sandbox-sms', user.from);
  const snapshot = await store.getAccountSnapshot('electricity', account);
  const bill = snapshot?.bills.find((b) => b.status === 'unpaid');
  if (!identity || !bill) throw new Error(`no unpaid bill cached for ${account}`);
  const id = `P-${randomInt(1e9, 9e9).toString(36).toUpperCase().padEnd(10, '0').slice(0, 10)}`;
  await store.createPayment({
    id,
    subscriberId: identity.subscriberId,
    identityId: identity.id,
    billerId: bill.billerId,
    account,
    billId: bill.billId,
    amountMinor: bill.amountMinor,
    currency: bill.currency,
    channelId: 'syriatel-cash',
    payerAddress: user.from,
    status: 'created',
    openKey: `${bill.billerId}:${bill.billId}`,
    deadlineAt: new Date(Date.now() + 3_600_000),
  });
  const confirmed = qirsh(bill.amountMinor + 50_000);
  await store.updatePayment(id, 'created', {
    status: 'held',
    heldReason: 'amount_mismatch',
    confirmedAmountMinor: confirmed,
  });
  await store.audit({
    actor: 'channel:syriatel-cash',
    entity: 'payment',
    entityId: id,
    action: 'webhook',
    fromState: 'created',
    toState: 'held',
    detail: { amountMinor: confirmed },
  });
  return id;
}

/** What a person at this width would find wrong: sideways scrolling of the page or a table. */
export async function overflowProblems(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const problems = [];
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth)
      problems.push('the page scrolls sideways: ' + root.scrollWidth + 'px in ' + window.innerWidth);
    document.querySelectorAll('.table-wrap, .screen, .card, .phone').forEach((box) => {
      if (box.scrollWidth > box.clientWidth + 1) {
        const what = box.querySelector('[id]')?.id ?? box.className;
        problems.push(what + ' is cut off: ' + box.scrollWidth + 'px in ' + box.clientWidth);
      }
    });
    return problems;
  })()`);
}

export interface KeyboardWalk {
  /** Every control a person can use, in page order (radio groups count once). */
  controls: string[];
  /** What Tab reached, in order, until focus left the page or came round again. */
  reached: string[];
  /** Controls reached without a visible focus ring. */
  unringed: string[];
  /** Whether the first Tab showed the "skip to content" link on screen. */
  skipShown: boolean;
}

/**
 * Tabs through a page from its start as a keyboard user would, and says which controls were
 * reached and whether each showed a focus ring (an outline of 2 px or more, or a box shadow).
 */
export async function walkWithKeyboard(page: Page): Promise<KeyboardWalk> {
  const controls = await page.evaluate<string[]>(`(() => {
    const selector = 'a[href], button, input:not([type="hidden"]), textarea, select, summary, [tabindex]:not([tabindex="-1"])';
    const keys = [];
    let n = 0;
    for (const el of document.querySelectorAll(selector)) {
      const style = getComputedStyle(el);
      const visible = el.getClientRects().length > 0 && style.visibility !== 'hidden';
      if (!visible || el.disabled) continue;
      const key = el.type === 'radio' ? 'radio:' + el.name : 'k' + n++;
      el.setAttribute('data-walk', key);
      if (!keys.includes(key)) keys.push(key);
    }
    return keys;
  })()`);
  await page.evaluate(
    'document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)',
  );
  // Start from the top of the document, as after loading it.
  await page.evaluate(`(() => {
    const start = document.createElement('span');
    start.tabIndex = -1;
    start.id = 'walk-start';
    document.body.prepend(start);
    start.focus();
    start.remove();
  })()`);
  const reached: string[] = [];
  const unringed: string[] = [];
  let skipShown = false;
  for (let i = 0; i < controls.length + 5; i++) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate<{
      key: string | null;
      ringed: boolean;
      top: number;
      skip: boolean;
      label: string;
    } | null>(`(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const ringed =
        (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) ||
        style.boxShadow !== 'none';
      return {
        key: el.getAttribute('data-walk'),
        ringed,
        top: el.getBoundingClientRect().top,
        skip: el.classList.contains('skip'),
        label: (el.getAttribute('aria-label') || el.textContent || el.id || el.tagName).trim().slice(0, 40),
      };
    })()`);
    if (now === null) break;
    if (i === 0) skipShown = now.skip && now.top >= 0;
    const key = now.key ?? `?${now.label}`;
    if (reached.length > 0 && key === reached[0]) break;
    if (reached[reached.length - 1] !== key) reached.push(key);
    if (!now.ringed) unringed.push(now.label);
  }
  return { controls, reached, unringed, skipShown };
}

/** True when `inner` appears in `outer` in the same order (other items may come between). */
export function inOrder(inner: string[], outer: string[]): boolean {
  let at = 0;
  for (const item of outer) if (item === inner[at]) at++;
  return at === inner.length;
}
