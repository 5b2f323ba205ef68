/**
 * 1,000 replays of one payment event (docs/design.md §5: "an event id seen before is acknowledged and
 * ignored; states only move forward"; §6: "a retried webhook … one settlement, one receipt").
 * One payment gets the same signed event (same bytes, same eventId) 1,000 times at once;
 * another gets 1,000 events with distinct eventIds and the same status, at once. Each payment
 * makes one transition, one settlement at the biller and one receipt, and every delivery is
 * acknowledged with 200 (a 5xx would make the channel retry for ever), once the channel has
 * retried what was answered 503 with Retry-After (two events for one payment at the same
 * moment, on PostgreSQL).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeBiller } from '../test/support/fake-biller.server.js';
import { startFakePaymentChannel } from '../test/support/fake-payment.server.js';
import { SandboxUser } from '../test/support/harness.js';
import { drillDatabase, type DrillDatabase } from './database.js';
import {
  baseEnv,
  Child,
  errorLines,
  httpCatalogueFile,
  mapLimit,
  n,
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

const SECRET = 'whsec-drill-replays-0123456789';
const isReceipt = (text: string) => text.startsWith('إيصال');

export const replays: Drill = {
  name: 'replays',
  what: '1,000 replays of one payment event, 1,000 event ids: one transition, settlement, receipt',
  async run(ctx): Promise<DrillOutcome> {
    const copies = ctx.quick ? 250 : 1_000;
    const concurrency = 32;
    const promises = new Promises();
    const dir = tempDir('replays');
    const biller = await startFakeBiller();
    const channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    let child: Child | null = null;
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
        TASDEED_SANDBOX: '1',
      });
      child = await Child.boot(env);
      const url = child.url;
      const webhookUrl = `${url}/payments/webhook/wallet`;

      const cases = [
        {
          name: 'same event',
          account: '7500001',
          user: new SandboxUser(url, 'sms', '+963944700001'),
        },
        {
          name: 'distinct event ids',
          account: '7500002',
          user: new SandboxUser(url, 'sms', '+963944700002'),
        },
      ].map((c) => ({
        ...c,
        ref: '',
        providerRef: '',
        statuses: new Map<number, number>(),
        outcomes: new Map<string, number>(),
      }));
      for (const c of cases) {
        biller.addAccount(unpaidAccount(c.account));
        const r = await c.user.say(`ادفع كهرباء ${c.account}`);
        c.ref = paymentRef(r.replies.join('\n')) ?? '';
        const provider = channel.paymentFor(c.ref);
        if (!provider) throw new Error(`the channel never got the payment of ${c.account}`);
        c.providerRef = provider.providerRef;
      }

      /**
       * One delivery, sent again as a channel does while Tasdeed answers 503 (two events for one
       * payment at the same moment: the loser is told to retry after Retry-After seconds).
       */
      let retried = 0;
      const deliver = async (c: (typeof cases)[number], body: string) => {
        let res: Response;
        for (let attempt = 1; ; attempt++) {
          res = await fetch(webhookUrl, {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              'X-Tasdeed-Signature': channel.sign(body),
            },
            body,
          });
          if (res.status !== 503 || attempt >= 5) break;
          await res.arrayBuffer();
          retried += 1;
          const after = Number(res.headers.get('retry-after'));
          await sleep(Math.min(Number.isFinite(after) && after > 0 ? after * 1000 : 1000, 2000));
        }
        const answer = (await res.json().catch(() => ({}))) as { outcome?: string };
        c.statuses.set(res.status, (c.statuses.get(res.status) ?? 0) + 1);
        const outcome = answer.outcome ?? `http ${res.status}`;
        c.outcomes.set(outcome, (c.outcomes.get(outcome) ?? 0) + 1);
      };
      const event = (c: (typeof cases)[number], eventId: string) =>
        JSON.stringify({
          eventId,
          providerRef: c.providerRef,
          reference: c.ref,
          status: 'succeeded',
          amountMinor: 2_000_000,
          occurredAt: new Date().toISOString(),
        });
      const [same, distinct] = cases as [(typeof cases)[number], (typeof cases)[number]];
      // The same bytes, signed once, delivered 1,000 times at once.
      const replayed = event(same, randomUUID());
      await mapLimit(Array.from({ length: copies }), concurrency, () => deliver(same, replayed));
      ctx.note(`same event delivered ${copies} times`);
      await mapLimit(Array.from({ length: copies }), concurrency, () =>
        deliver(distinct, event(distinct, randomUUID())),
      );
      ctx.note(`${copies} distinct events delivered`);

      await waitUntil(
        'receipts out and settlements acknowledged',
        async () => {
          for (const c of cases) {
            const view = await paymentView(url, c.ref);
            if (view.payment.settlementStatus !== 'acknowledged') return false;
            if (!(await c.user.inbox()).some((m) => isReceipt(m.text))) return false;
          }
          const open = await outboxCounts(drillDb, `status IN ('queued','leased')`);
          return Object.keys(open).length === 0;
        },
        60_000,
        200,
      );

      const figures: string[] = [];
      for (const c of cases) {
        const view = await paymentView(url, c.ref);
        const transitions = view.audit.filter(
          (a) => a.action === 'transition' && a.toState === 'succeeded',
        ).length;
        const settlements = biller.settlements.filter((s) => s.billId === `B-${c.account}`);
        const effects = settlements.filter((s) => s.outcome === 'settled').length;
        const receipts = (await c.user.inbox()).filter((m) => isReceipt(m.text)).length;
        const ok200 = c.statuses.get(200) ?? 0;
        promises.check(
          ok200 === copies,
          `${c.name}: ${copies - ok200} deliveries not acknowledged: ${JSON.stringify(Object.fromEntries(c.statuses))}`,
        );
        promises.check(
          (c.outcomes.get('applied') ?? 0) === 1,
          `${c.name}: outcomes ${JSON.stringify(Object.fromEntries(c.outcomes))}`,
        );
        promises.check(
          view.payment.status === 'succeeded' && transitions === 1,
          `${c.name}: ${view.payment.status} after ${transitions} transitions to succeeded`,
        );
        promises.check(effects === 1, `${c.name}: ${effects} settlement effects at the biller`);
        promises.check(receipts === 1, `${c.name}: ${receipts} receipts`);
        figures.push(
          `${c.name}: ${n(ok200)}×200 (${[...c.outcomes].map(([k, v]) => `${n(v)} ${k}`).join(', ')}), ` +
            `${transitions} transition, ${settlements.length} settlement request, ${receipts} receipt`,
        );
      }
      promises.check(child.alive(), 'Tasdeed died during the drill');
      const errors = errorLines(child.output());
      promises.check(
        errors.length === 0,
        `${errors.length} errors logged, e.g. ${errors[0]?.slice(0, 300) ?? ''}`,
      );
      const code = await child.stop();
      promises.check(code === 0, `graceful stop after the drill exited ${code}`);
      return {
        numbers: `${figures.join('; ')}; ${retried} deliveries sent again after a 503`,
        problems: promises.broken,
        logTail: child.output(),
      };
    } finally {
      await child?.kill();
      await channel.close();
      await biller.close();
      await db?.remove();
      dir.remove();
    }
  },
};
