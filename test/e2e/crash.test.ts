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
import { TEST_DATABASE_URL } from '../support/pg.js';

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
  let dir: string;
  let env: Record<string, string>;
  let url: string;

  before(async () => {
    biller = await startFakeBiller();
    channel = await startFakePaymentChannel({ webhookSecret: SECRET });
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
    };
  });
  after(async () => {
    await biller.close();
    await channel.close();
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

  async function confirmPayment(user: SandboxUser, account: string) {
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
    const r = await user.say(`ادفع كهرباء ${account}`);
    const ref = /P-[0-9A-Z]{10}/.exec(r.replies.join(' '))?.[0];
    assert.ok(ref, JSON.stringify(r));
    const provider = await waitFor('initiation', () => channel.paymentFor(ref));
    const res = await channel.sendWebhook(`${url}/payments/webhook/wallet`, {
      providerRef: provider.providerRef,
      status: 'succeeded',
    });
    assert.equal(res.status, 200);
    return ref;
  }

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
      await new Promise((r) => setTimeout(r, 500));
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
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await user.inbox()).length, 1);
      const forThisPayment = biller.settlements.filter((s) => s.billId === 'B-7000002');
      assert.equal(forThisPayment.filter((s) => s.outcome === 'settled').length, 1);
      assert.ok(forThisPayment.every((s) => s.idempotencyKey === ref));
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
