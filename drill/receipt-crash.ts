/**
 * SIGKILL between a payment's confirmation and its receipt (docs/design.md §6: "a restarted process …
 * one settlement, one receipt"). Payers pay by SMS (Twilio stand-in) through the HTTP payment
 * channel stand-in; their payments are confirmed by signed webhooks, and the process is killed
 *  - "in flight": after the receipt requests reached the SMS provider's edge (held there, never
 *    delivered) and the settlements reached the biller (applied, never answered);
 *  - "after 200": right after the webhooks' 200, before anything else could happen.
 * After a restart on the same database every payer has exactly one receipt, and every bill
 * exactly one settlement effect at the biller.
 */
import { randomBytes } from 'node:crypto';
import { startFakeBiller } from '../test/support/fake-biller.server.js';
import { startFakePaymentChannel } from '../test/support/fake-payment.server.js';
import { startFakeTwilio, type FakeTwilio } from '../test/support/fake-twilio.server.js';
import { drillDatabase, type DrillDatabase } from './database.js';
import { HoldingProxy } from './holding-proxy.js';
import {
  baseEnv,
  TWILIO_FROM,
  twilioEnv,
  Child,
  httpCatalogueFile,
  mapLimit,
  outboxCounts,
  paymentRef,
  paymentView,
  Promises,
  tempDir,
  unpaidAccount,
  waitUntil,
  type Drill,
  type DrillOutcome,
} from './support.js';

const SECRET = 'whsec-drill-receipt-0123456789';

/** A receipt as the SMS renders it (locales/ar.ftl `receipt`; it has no .sms variant). */
const isReceipt = (text: string) => text.startsWith('إيصال');

function smsTo(twilio: FakeTwilio, to: string): string[] {
  return twilio.messages.filter((m) => m.form.To === to).map((m) => m.form.Body ?? '');
}

export const receiptCrash: Drill = {
  name: 'receipt-crash',
  what: 'SIGKILL between payment confirmation and receipt: one receipt, one settlement each',
  async run(ctx): Promise<DrillOutcome> {
    const perGroup = ctx.quick ? 4 : 10;
    const promises = new Promises();
    const dir = tempDir('receipt');
    const biller = await startFakeBiller();
    const channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    const twilio = await startFakeTwilio();
    const proxy = await new HoldingProxy(twilio.url).listen();
    let first: Child | null = null;
    let second: Child | null = null;
    let db: DrillDatabase | null = null;
    try {
      db = await drillDatabase(dir.path);
      const drillDb = db;
      const env = await baseEnv(db, {
        TASDEED_CATALOGUE: httpCatalogueFile(dir.path, {
          billerUrl: biller.url,
          paymentUrl: channel.url,
          webhookSecret: SECRET,
        }),
        ...twilioEnv(twilio, proxy.url),
        SMS_MAX_PER_SECOND: '1000',
      });
      first = await Child.boot(env);
      const url = first.url;

      const payers = Array.from({ length: perGroup * 2 }, (_, i) => ({
        phone: `+9639443${String(10_000 + i).padStart(5, '0')}`,
        account: String(7_100_000 + i),
        group: i < perGroup ? ('in flight' as const) : ('after 200' as const),
        ref: '',
        providerRef: '',
      }));
      for (const p of payers) biller.addAccount(unpaidAccount(p.account));
      await mapLimit(payers, 8, async (p) => {
        const res = await twilio.sendSignedWebhook(`${url}/sms/twilio/inbound`, {
          MessageSid: `SM${randomBytes(16).toString('hex')}`,
          AccountSid: twilio.accountSid,
          From: p.phone,
          To: TWILIO_FROM,
          Body: `ادفع كهرباء ${p.account}`,
        });
        if (res.status !== 200) throw new Error(`inbound SMS answered ${res.status}`);
        p.ref = await waitUntil(
          `the pay reply to ${p.phone}`,
          () => smsTo(twilio, p.phone).map(paymentRef).find(Boolean),
          20_000,
        );
        p.providerRef = (
          await waitUntil(`the initiation of ${p.ref}`, () => channel.paymentFor(p.ref), 20_000)
        ).providerRef;
      });
      ctx.note(`${payers.length} payments pending at the channel`);

      // From now on no receipt gets past the SMS provider's edge, and settlements hang.
      proxy.holdIf = (req) => isReceipt(new URLSearchParams(req.body).get('Body') ?? '');
      biller.hangSettlements = true;
      const confirm = async (p: (typeof payers)[number]) => {
        const res = await channel.sendWebhook(`${url}/payments/webhook/wallet`, {
          providerRef: p.providerRef,
          status: 'succeeded',
        });
        if (res.status !== 200) throw new Error(`webhook for ${p.ref} answered ${res.status}`);
      };
      const inFlight = payers.filter((p) => p.group === 'in flight');
      await mapLimit(inFlight, 8, confirm);
      await waitUntil(
        'the in-flight receipts to reach the SMS provider and the settlements the biller',
        () =>
          inFlight.every(
            (p) =>
              proxy.held.some((h) => h.body.includes(p.ref)) &&
              biller.settlements.some((s) => s.idempotencyKey === p.ref),
          ),
        30_000,
      );
      await mapLimit(
        payers.filter((p) => p.group === 'after 200'),
        8,
        confirm,
      );
      await first.kill();
      const heldAtKill = proxy.held.length;
      ctx.note(`killed with ${heldAtKill} receipts held, ${biller.settlements.length} settlements`);
      promises.check(
        payers.every((p) => !smsTo(twilio, p.phone).some(isReceipt)),
        'a receipt reached the provider before the kill (the drill did not test what it meant to)',
      );
      proxy.release();
      biller.hangSettlements = false;

      second = await Child.boot(env);
      await waitUntil(
        'every payment settled and every receipt out',
        async () => {
          for (const p of payers) {
            const view = await paymentView(second!.url, p.ref);
            if (view.payment.settlementStatus !== 'acknowledged') return false;
            if (!smsTo(twilio, p.phone).some(isReceipt)) return false;
          }
          const open = await outboxCounts(drillDb, `status IN ('queued','leased')`);
          return Object.keys(open).length === 0;
        },
        60_000,
        200,
      );

      let receiptsTotal = 0;
      let effectsTotal = 0;
      for (const p of payers) {
        const receipts = smsTo(twilio, p.phone).filter(isReceipt);
        receiptsTotal += receipts.length;
        promises.check(
          receipts.length === 1 && receipts[0]!.includes(p.ref),
          `${p.group}: payer of ${p.ref} got ${receipts.length} receipts`,
        );
        const settlements = biller.settlements.filter((s) => s.billId === `B-${p.account}`);
        const effects = settlements.filter((s) => s.outcome === 'settled').length;
        effectsTotal += effects;
        promises.check(effects === 1, `${p.group}: bill of ${p.ref} settled ${effects} times`);
        promises.check(
          settlements.every((s) => s.idempotencyKey === p.ref),
          `${p.group}: a settlement of ${p.ref} without the payment id as its key`,
        );
        const view = await paymentView(second.url, p.ref);
        const toSucceeded = view.audit.filter(
          (a) => a.action === 'transition' && a.toState === 'succeeded',
        ).length;
        promises.check(
          view.payment.status === 'succeeded' && toSucceeded === 1,
          `${p.group}: ${p.ref} is ${view.payment.status} after ${toSucceeded} transitions to succeeded`,
        );
      }
      const resent = biller.settlements.filter((s) => s.outcome === 'replayed').length;
      const code = await second.stop();
      promises.check(code === 0, `graceful stop after the drill exited ${code}`);
      return {
        numbers:
          `${payers.length} payments killed between confirmation and receipt ` +
          `(${perGroup} with receipt and settlement in flight, ${perGroup} right after the 200): ` +
          `${receiptsTotal} receipts, ${effectsTotal} settlement effects ` +
          `(${resent} settlement requests repeated with the same key)`,
        problems: promises.broken,
        logTail: (first.output() + (second?.output() ?? '')).slice(-20_000),
      };
    } finally {
      await first?.kill();
      await second?.kill();
      await proxy.close();
      await twilio.close();
      await channel.close();
      await biller.close();
      await db?.remove();
      dir.remove();
    }
  },
};
