/**
 * A process killed (SIGKILL) between a confirmed payment and its settlement or receipt
 * settles once and sends the receipt once after restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import {
  databaseForDir,
  freePort,
  removeTestDir,
  SandboxUser,
  spawnTasdeed,
  waitFor,
  writeJson,
} from '../support/harness.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.server.js';
import { connectTo } from '../support/db.js';
import { TEST_DATABASE_URL } from '../support/pg.js';

const TWILIO_FROM = '+15005550006';

const SECRET = 'whsec-crash-0123456789';
/**
 * How long recovery may take after the restart. On SQLite the one process owns the file and
 * frees the dead one's leases at start; on PostgreSQL other live instances may hold leases, so
 * the dead one's are freed when its heartbeat goes stale (15 s, checked every 5 s).
 */
const RECOVERY_MS = TEST_DATABASE_URL ? 45_000 : 20_000;
const ADMIN_TOKEN = 'crash-admin-token-0123456789';

describe('crash between confirmation and settlement/receipt', () => {
  let biller: FakeBiller;
  let channel: FakePaymentChannel;
  let twilio: FakeTwilio;
  let dir: string;
  let env: Record<string, string>;
  let url: string;

  before(async () => {
    biller = await startFakeBiller();
    channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    twilio = await startFakeTwilio();
    dir = mkdtempSync(join(tmpdir(), 'tasdeed-crash-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const catalogue = writeJson(dir, 'catalogue.json', {
      billers: [
        {
          id: 'electricity',
          name: { ar: 'الكهرباء', en: 'Electricity' },
          aliases: ['كهرباء', 'elec'],
          accountPattern: '^[0-9]{6,12}$',
          adapter: { type: 'http', baseUrl: biller.url, timeoutMs: 60_000 },
        },
      ],
      paymentChannels: [
        {
          id: 'wallet',
          name: { ar: 'محفظة', en: 'Wallet' },
          aliases: ['wallet'],
          adapter: { type: 'http', baseUrl: channel.url, webhookSecret: SECRET },
        },
      ],
      coverage: {},
    });
    env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      DATABASE_URL: (await databaseForDir(dir)).url,
      TASDEED_CATALOGUE: catalogue,
      TASDEED_SANDBOX: '1',
      TASDEED_ADMIN_TOKEN: ADMIN_TOKEN,
      // A real channel for the receipt of the third case: SMS through the Twilio stand-in.
      SMS_GATEWAY: 'twilio',
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM,
      TWILIO_API_ROOT: twilio.url,
    };
  });
  after(async () => {
    await biller.close();
    await channel.close();
    await twilio.close();
    await removeTestDir(dir);
  });

  async function boot() {
    const proc = spawnTasdeed(env);
    await waitFor(
      'Tasdeed to listen',
      async () => {
        const res = await fetch(`${url}/healthz`).catch(() => null);
        return res?.ok ?? false;
      },
      30_000,
    );
    return proc;
  }

  async function payment(ref: string) {
    const res = await fetch(`${url}/admin/payments/${ref}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return ((await res.json()) as { payment: { status: string; settlementStatus: string } })
      .payment;
  }

  function addBill(account: string) {
    biller.addAccount({
      account,
      holder: 'سارة نزار القاسم',
      governorate: 'DAM',
      bills: [
        {
          id: `B-${account}`,
          period: '9-10',
          amountMinor: 2_000_000,
          currency: 'SYP',
          dueDate: '2026-11-28',
          status: 'unpaid',
        },
      ],
    });
  }

  async function confirm(ref: string) {
    const provider = await waitFor('initiation', () => channel.paymentFor(ref));
    const res = await channel.sendWebhook(`${url}/payments/webhook/wallet`, {
      providerRef: provider.providerRef,
      status: 'succeeded',
    });
    assert.equal(res.status, 200);
  }

  async function confirmPayment(user: SandboxUser, account: string) {
    addBill(account);
    const r = await user.say(`ادفع كهرباء ${account}`);
    const ref = /P-[0-9A-Z]{10}/.exec(r.replies.join(' '))?.[0];
    assert.ok(ref, JSON.stringify(r));
    await confirm(ref);
    return ref;
  }

  /**
   * Waits until the receipt's outbox row (one per payment, by its dedupe key) is sent: a sent
   * row is never sent again, so the receipts counted after this are all there will be.
   */
  async function receiptFinished(ref: string): Promise<void> {
    const db = connectTo(env.DATABASE_URL!);
    try {
      await waitFor(
        `the receipt of ${ref} recorded as sent`,
        async () =>
          (await db.client.outboxItem.findUnique({ where: { dedupeKey: `receipt:${ref}` } }))
            ?.status === 'sent',
        RECOVERY_MS,
      );
    } finally {
      await db.close();
    }
  }

  /** What the Twilio stand-in accepted for a number (refused sends are not messages). */
  const smsTo = (to: string) =>
    twilio.messages.filter((m) => m.form.To === to).map((m) => m.form.Body ?? '');

  it('killed while the settlement is in flight: settles once, one receipt, after restart', async () => {
    biller.hangSettlements = true;
    const first = await boot();
    const user = new SandboxUser(url, 'sms', '+963944300001');
    const ref = await confirmPayment(user, '7000001');
    await waitFor('the settlement request to reach the biller', () =>
      biller.settlements.some((s) => s.idempotencyKey === ref),
    );
    first.child.kill('SIGKILL');
    await first.exited;

    biller.hangSettlements = false;
    const second = await boot();
    try {
      await waitFor(
        'settlement acknowledged',
        async () => (await payment(ref)).settlementStatus === 'acknowledged',
        RECOVERY_MS,
      );
      const forThisPayment = biller.settlements.filter((s) => s.billId === 'B-7000001');
      assert.ok(
        forThisPayment.length >= 2,
        'the in-flight settlement was sent again after restart',
      );
      assert.ok(
        forThisPayment.every((s) => s.idempotencyKey === ref),
        'always with the payment id as key',
      );
      assert.equal(
        forThisPayment.filter((s) => s.outcome === 'settled').length,
        1,
        'one effect at the biller',
      );
      const receipts = await user.waitForInbox(1, RECOVERY_MS);
      await receiptFinished(ref);
      assert.equal((await user.inbox()).length, 1, `one receipt: ${JSON.stringify(receipts)}`);
      assert.equal((await payment(ref)).status, 'succeeded');
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(
        await second.exited,
        0,
        `graceful stop exits 0:\n${second.output().slice(-2000)}`,
      );
    }
  });

  it('killed right after acknowledging the webhook: settles once, one receipt, after restart', async () => {
    const first = await boot();
    const user = new SandboxUser(url, 'sms', '+963944300002');
    const ref = await confirmPayment(user, '7000002');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await boot();
    try {
      await waitFor(
        'settlement acknowledged',
        async () => (await payment(ref)).settlementStatus === 'acknowledged',
        RECOVERY_MS,
      );
      await user.waitForInbox(1, RECOVERY_MS);
      await receiptFinished(ref);
      assert.equal((await user.inbox()).length, 1);
      const forThisPayment = biller.settlements.filter((s) => s.billId === 'B-7000002');
      assert.equal(forThisPayment.filter((s) => s.outcome === 'settled').length, 1);
      assert.ok(forThisPayment.every((s) => s.idempotencyKey === ref));
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('killed while the SMS receipt waits for its retry: sent once after restart', async () => {
    const first = await boot();
    const phone = '+963944300003';
    addBill('7000003');
    const inbound = await twilio.sendSignedWebhook(`${url}/sms/twilio/inbound`, {
      MessageSid: `SM${'3'.repeat(32)}`,
      AccountSid: twilio.accountSid,
      From: phone,
      To: TWILIO_FROM,
      Body: 'ادفع كهرباء 7000003',
    });
    assert.equal(inbound.status, 200);
    const started = await waitFor('the payment reply by SMS', () =>
      smsTo(phone).find((t) => /P-[0-9A-Z]{10}/.test(t)),
    );
    const ref = /P-[0-9A-Z]{10}/.exec(started)![0];
    // Twilio refuses the receipt's first attempt (a temporary 503): it waits for its retry.
    twilio.failTo(phone, { status: 503, code: 20500 });
    const refusedBefore = twilio.requests.length;
    await confirm(ref);
    await waitFor('the refused receipt attempt', () =>
      twilio.requests.slice(refusedBefore).some((r) => r.body.includes(encodeURIComponent(ref))),
    );
    first.child.kill('SIGKILL');
    await first.exited;
    assert.deepEqual(
      smsTo(phone).filter((t) => t.startsWith('إيصال')),
      [],
      'no receipt was sent before the kill',
    );

    const second = await boot();
    try {
      const receipt = await waitFor(
        'the receipt by SMS after restart',
        () => smsTo(phone).find((t) => t.startsWith('إيصال')),
        RECOVERY_MS,
      );
      assert.match(receipt, new RegExp(`المرجع ${ref}$`));
      await receiptFinished(ref);
      assert.equal(smsTo(phone).filter((t) => t.startsWith('إيصال')).length, 1, 'one receipt');
      await waitFor(
        'settlement acknowledged',
        async () => (await payment(ref)).settlementStatus === 'acknowledged',
        RECOVERY_MS,
      );
      assert.equal(
        biller.settlements.filter((s) => s.billId === 'B-7000003' && s.outcome === 'settled')
          .length,
        1,
      );
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
