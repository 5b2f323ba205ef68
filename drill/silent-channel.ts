/**
 * A payment channel that never calls back (docs/design.md §5: "a payment still pending after its
 * deadline (15 min) is asked for (GET) … at 1, 5, 15 and 60 minutes, then hourly for a day,
 * never assumed failed … When the schedule runs out it is held for staff").
 *
 * The 15-minute deadline and the schedule are fixed, so this drill runs Tasdeed in this process
 * on a FakeClock and walks the clock through the whole schedule, calling the reconciliation
 * job at each step. The HTTP payment channel stand-in never sends a webhook; behind it the
 * payments succeeded, failed, or stay pending for ever. At the first check the channel itself
 * is down (503). Promises: nothing is decided while the channel does not answer; each success
 * found by GET gets one receipt and one settlement, each failure one failure notice, and a
 * payment pending through the whole schedule is held for staff after exactly the scheduled
 * number of checks. Some payments were started while the channel was down ("lost": the
 * request may or may not have reached it): reconciliation repeats the same idempotent request,
 * the payer approves, and the next check finds the success — one provider payment each.
 */
import { createTasdeed, type Tasdeed } from '../src/app.js';
import { parseEnv } from '../src/config/env.js';
import {
  PAYMENT_DEADLINE_MS,
  RECONCILE_SCHEDULE_MINUTES,
} from '../src/core/payments/payment.service.js';
import { createLogger } from '../src/observability/logger.js';
import { startFakeBiller } from '../test/support/fake-biller.server.js';
import { startFakePaymentChannel } from '../test/support/fake-payment.server.js';
import { FakeClock, freePort, httpCatalogue, SandboxUser } from '../test/support/harness.js';
import { drillDatabase, type DrillDatabase } from './database.js';
import {
  ADMIN_TOKEN,
  errorLines,
  mapLimit,
  paymentRef,
  Promises,
  tempDir,
  unpaidAccount,
  type Drill,
  type DrillOutcome,
} from './support.js';

const SECRET = 'whsec-drill-silent-0123456789';
const isReceipt = (text: string) => text.startsWith('إيصال');
/** locales/ar.ftl payment-failed and payment-held (sandbox SMS renders the .sms variants). */
const isFailureNotice = (text: string) => text.startsWith('لم تتم الدفعة');
const isHeldNotice = (text: string) => text.includes('تحتاج مراجعة');

type Fate = 'succeeded' | 'failed' | 'pending' | 'lost';

export const silentChannel: Drill = {
  name: 'silent-channel',
  what: 'a channel that never calls back: reconciliation finds each result, receipt goes out',
  async run(ctx): Promise<DrillOutcome> {
    const perFate = ctx.quick ? 4 : 10;
    const promises = new Promises();
    const dir = tempDir('silent');
    const biller = await startFakeBiller();
    const channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    let log = '';
    let tasdeed: Tasdeed | null = null;
    let db: DrillDatabase | null = null;
    try {
      db = await drillDatabase(dir.path);
      const port = await freePort();
      const env = parseEnv({
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATABASE_URL: db.url,
        TASDEED_ADMIN_TOKEN: ADMIN_TOKEN,
        TASDEED_SANDBOX: '1',
      });
      if (!env.ok) throw new Error(env.problems.join('\n'));
      const clock = new FakeClock(new Date());
      tasdeed = await createTasdeed({
        config: env.config,
        catalogue: httpCatalogue({
          billerUrl: biller.url,
          paymentUrl: channel.url,
          webhookSecret: SECRET,
        }),
        logger: createLogger({
          level: 'warn',
          destination: { write: (line: string) => void (log += line) },
        }),
        clock,
        scheduler: false,
        // The drill calls the reconciliation job itself, at the fake clock's times.
        reconcileEveryMs: 3_600_000,
      });
      await tasdeed.start();
      const url = `http://127.0.0.1:${port}`;
      const t = tasdeed;

      const fates: Fate[] = ['succeeded', 'failed', 'pending', 'lost'];
      const payers = fates.flatMap((fate, f) =>
        Array.from({ length: perFate }, (_, i) => ({
          fate,
          user: new SandboxUser(url, 'sms', `+9639446${f}${String(1000 + i)}`),
          account: String(7_400_000 + f * 1000 + i),
          ref: '',
          providerRef: '',
        })),
      );
      for (const p of payers) biller.addAccount(unpaidAccount(p.account));
      const pay = async (p: (typeof payers)[number]) => {
        const r = await p.user.say(`ادفع كهرباء ${p.account}`);
        const ref = paymentRef(r.replies.join('\n'));
        if (!ref) throw new Error(`no payment reference in ${JSON.stringify(r.replies)}`);
        p.ref = ref;
        p.providerRef = channel.paymentFor(ref)?.providerRef ?? '';
      };
      await mapLimit(
        payers.filter((p) => p.fate !== 'lost'),
        8,
        pay,
      );
      channel.down = true;
      await mapLimit(
        payers.filter((p) => p.fate === 'lost'),
        8,
        pay,
      );
      channel.down = false;
      // Behind the silent channel the payments met their fate; nobody tells Tasdeed.
      for (const p of payers) {
        if (p.fate === 'succeeded' || p.fate === 'failed') channel.setStatus(p.providerRef, p.fate);
      }
      const statusOf = async (ref: string) => (await t.store.getPayment(ref))?.status ?? 'missing';
      const gets = (p: (typeof payers)[number]) =>
        channel.requests.filter(
          (r) => r.method === 'GET' && r.path === `/payments/${p.providerRef}`,
        ).length;

      // Walk the clock through the schedule (minutes after the deadline).
      let at = 0;
      for (const [step, minute] of RECONCILE_SCHEDULE_MINUTES.entries()) {
        clock.advance((step === 0 ? PAYMENT_DEADLINE_MS : 0) + (minute - at) * 60_000 + 1_000);
        at = minute + 1 / 60;
        channel.down = step === 0;
        while ((await t.payments.reconcileDue()) > 0) {
          // Each call handles what is due; due rows move to their next check.
        }
        await t.dispatcher.drain();
        // A lost request repeated by reconciliation reaches the channel; the payer approves.
        for (const p of payers.filter((x) => x.fate === 'lost' && !x.providerRef)) {
          const provider = channel.paymentFor(p.ref);
          if (provider) {
            p.providerRef = provider.providerRef;
            channel.setStatus(p.providerRef, 'succeeded');
          }
        }
        if (step === 0) {
          const decided = [];
          for (const p of payers) {
            if (!['created', 'pending'].includes(await statusOf(p.ref))) decided.push(p.ref);
          }
          promises.check(
            decided.length === 0,
            `${decided.length} payments decided while the channel did not answer`,
          );
        }
      }
      channel.down = false;
      await t.dispatcher.drain();
      ctx.note(`clock walked ${RECONCILE_SCHEDULE_MINUTES.length} checks past the deadline`);

      const counts = { receipts: 0, failures: 0, held: 0, settlements: 0 };
      for (const p of payers) {
        const inbox = (await p.user.inbox()).map((m) => m.text);
        const receipts = inbox.filter(isReceipt).length;
        const failures = inbox.filter(isFailureNotice).length;
        const held = inbox.filter(isHeldNotice).length;
        const settled = biller.settlements.filter(
          (s) => s.billId === `B-${p.account}` && s.outcome === 'settled',
        ).length;
        counts.receipts += receipts;
        counts.failures += failures;
        counts.held += held;
        counts.settlements += settled;
        const payment = await t.store.getPayment(p.ref);
        const expected =
          p.fate === 'succeeded' || p.fate === 'lost'
            ? { status: 'succeeded', receipts: 1, failures: 0, held: 0, settled: 1 }
            : p.fate === 'failed'
              ? { status: 'failed', receipts: 0, failures: 1, held: 0, settled: 0 }
              : { status: 'held', receipts: 0, failures: 0, held: 1, settled: 0 };
        const got = { status: payment?.status, receipts, failures, held, settled };
        promises.check(
          JSON.stringify(got) === JSON.stringify(expected),
          `${p.fate} at the channel: ${p.ref} ended ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`,
        );
        if (p.fate === 'lost') {
          promises.check(
            channel.initiations.filter((x) => x.idempotencyKey === p.ref && x.providerRef).length >=
              1 && channel.distinctKeys() === payers.length,
            `${p.ref} started while the channel was down: ${channel.distinctKeys()} provider payments for ${payers.length}`,
          );
        }
        if (p.fate === 'pending') {
          promises.check(
            payment?.heldReason === 'reconciliation_exhausted' &&
              gets(p) === RECONCILE_SCHEDULE_MINUTES.length,
            `${p.ref} pending for ever: held ${String(payment?.heldReason)} after ${gets(p)} checks (schedule: ${RECONCILE_SCHEDULE_MINUTES.length})`,
          );
        }
      }
      const pendingGets = payers.filter((p) => p.fate === 'pending').map(gets);
      const errors = errorLines(log);
      promises.check(
        errors.length === 0,
        `${errors.length} errors logged, e.g. ${errors[0]?.slice(0, 300) ?? ''}`,
      );
      const total = payers.length;
      return {
        numbers:
          `${total} payments, no webhook; clock walked through ${RECONCILE_SCHEDULE_MINUTES.length} checks ` +
          `(first one with the channel down): ${counts.receipts} receipts + ${counts.settlements} settlements ` +
          `for ${perFate * 2} successes (${perFate} started while the channel was down), ` +
          `${counts.failures} failure notices for ${perFate} failures, ` +
          `${counts.held} held for staff after ${Math.min(...pendingGets)} GETs each`,
        problems: promises.broken,
        logTail: log,
      };
    } finally {
      await tasdeed?.stop().catch(() => undefined);
      await channel.close();
      await biller.close();
      await db?.remove();
      dir.remove();
    }
  },
};
