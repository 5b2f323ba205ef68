/**
 * The sandbox is a demo: on by default only while nothing real is behind it. With an HTTP
 * biller and payment channel in the catalogue, a visitor's `PAY` would start a real payment
 * for any wallet number and lock the bill for its real subscriber, so the sandbox stays off
 * (every /sandbox route 404, start-up says why) unless TASDEED_SANDBOX=1 forces it on, and then
 * start-up warns once. Log lines are read as data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import {
  captureLog,
  demoCatalogue,
  httpCatalogue,
  SandboxUser,
  startTasdeed,
  waitFor,
  type LogLine,
} from '../support/harness.js';

const SECRET = 'sandbox-guard-webhook-secret';
const WARN = 40;

/** What a visitor would try: a bill, then a payment to a wallet number they make up. */
const ACCOUNT = '7310001';

function lookup(url: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  });
}

const warnings = (lines: LogLine[]) => lines.filter((l) => l.level >= WARN);

/** Every route the sandbox serves, with what a visitor would send; each answers 404 while off. */
const ROUTES: Array<[string, string, unknown?]> = [
  ['GET', '/sandbox'],
  ['GET', '/sandbox/assets/sandbox.js'],
  ['GET', '/sandbox/assets/sandbox.css'],
  ['GET', '/sandbox/messages?channel=sms&from=%2B963944999001'],
  [
    'POST',
    '/sandbox/messages',
    { channel: 'sms', from: '+963944999001', text: `PAY elec ${ACCOUNT}` },
  ],
  [
    'POST',
    '/sandbox/messages',
    { channel: 'telegram', from: 'visitor', text: `BILL elec ${ACCOUNT}` },
  ],
];

/** The status each of ROUTES answers, as `METHOD path status`. */
async function statuses(url: string): Promise<string[]> {
  const seen: string[] = [];
  for (const [method, path, body] of ROUTES) {
    const res = await lookup(url, method, path, body);
    await res.arrayBuffer();
    seen.push(`${method} ${path} ${res.status}`);
  }
  return seen;
}

describe('the sandbox with an HTTP biller and payment channel in the catalogue', () => {
  let biller: FakeBiller;
  let channel: FakePaymentChannel;
  before(async () => {
    biller = await startFakeBiller();
    channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    biller.addAccount({
      account: ACCOUNT,
      holder: 'محمد خالد الأحمد',
      governorate: 'DAM',
      bills: [
        {
          id: `B-${ACCOUNT}`,
          period: '9-10',
          amountMinor: 1_875_000,
          currency: 'SYP',
          dueDate: '2036-11-28',
          status: 'unpaid',
        },
      ],
    });
  });
  after(async () => {
    await biller.close();
    await channel.close();
  });

  const catalogue = () =>
    httpCatalogue({ billerUrl: biller.url, paymentUrl: channel.url, webhookSecret: SECRET });

  it('is off by default: every /sandbox route answers 404, nothing reaches the channel, start-up says why', async () => {
    const log = captureLog();
    const t = await startTasdeed({ catalogue: catalogue(), logger: log.logger });
    try {
      assert.deepEqual(
        await statuses(t.url),
        ROUTES.map(([method, path]) => `${method} ${path} 404`),
      );
      assert.deepEqual(channel.requests, [], 'no request reached the payment channel');
      assert.deepEqual(biller.requests, [], 'no request reached the biller');

      const why = log.lines.filter((l) => l.sandbox === false);
      assert.equal(why.length, 1, JSON.stringify(log.lines));
      assert.match(String(why[0]!.msg), /sandbox off/);
      assert.match(String(why[0]!.msg), /not simulated/);
      assert.match(String(why[0]!.msg), /electricity/);
      assert.match(String(why[0]!.msg), /wallet/);
      assert.match(String(why[0]!.msg), /TASDEED_SANDBOX=1/);
      assert.deepEqual(warnings(log.lines), []);
    } finally {
      await t.close();
    }
  });

  it('TASDEED_SANDBOX=1 forces it on, and start-up logs exactly one warning saying so', async () => {
    const log = captureLog();
    const t = await startTasdeed({
      catalogue: catalogue(),
      env: { TASDEED_SANDBOX: '1' },
      logger: log.logger,
    });
    try {
      const warned = warnings(log.lines);
      assert.equal(warned.length, 1, JSON.stringify(warned));
      assert.equal(warned[0]!.level, WARN);
      assert.match(String(warned[0]!.msg), /sandbox messages reach real billers and channels/);
      assert.equal(warned[0]!.sandbox, true);

      // On indeed: a sandbox payment reaches the channel.
      const user = new SandboxUser(t.url, 'sms', '+963944999002');
      const r = await user.say(`ادفع كهرباء ${ACCOUNT}`);
      const ref = /P-[0-9A-Z]{10}/.exec(r.replies[0] ?? '')?.[0];
      assert.ok(ref, JSON.stringify(r.replies));
      await waitFor('the initiation', () => channel.paymentFor(ref));
      assert.equal(warnings(log.lines).length, 1, 'no further warning');

      // The routes the default refuses are all served once it is on.
      for (const seen of await statuses(t.url)) assert.doesNotMatch(seen, / 404$/);
    } finally {
      await t.close();
    }
  });
});

describe('the sandbox on the simulated catalogue with no real front', () => {
  it('is on by default, with no warning', async () => {
    const log = captureLog();
    const t = await startTasdeed({ catalogue: demoCatalogue(), logger: log.logger });
    try {
      const r = await new SandboxUser(t.url, 'sms', '+963944999003').say('فاتورة كهرباء 1000101');
      assert.match(r.replies[0] ?? '', /^الكهرباء 1000101/);
      assert.deepEqual(warnings(log.lines), []);
      const on = log.lines.filter((l) => l.sandbox === true);
      assert.equal(on.length, 1, JSON.stringify(log.lines));
      assert.match(String(on[0]!.msg), /sandbox on/);
    } finally {
      await t.close();
    }
  });
});
