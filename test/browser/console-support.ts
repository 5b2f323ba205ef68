/**
 * Helpers for the console's tests (test/e2e/console-*.test.ts, test/browser/*.test.ts): a
 * console login over plain HTTP, a payment held for staff, and Chromium when it is installed.
 */
import { existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';
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
