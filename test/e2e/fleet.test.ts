/**
 * Three Tasdeed processes on one PostgreSQL database share the work and do each piece of it
 * once (docs/design.md §10, issue 6), counted at the local stand-ins: each instance has its own Bot API
 * and Twilio stand-ins (so what each one sent is counted apart), the biller and the payment
 * channel are shared. Telegram runs in webhook mode: long polling allows one consumer, and a
 * second poller is refused at start.
 *
 * Skipped, with NO_POSTGRES's message, when TEST_DATABASE_URL is not set.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakeBiller, type FakeBiller } from '../support/fake-biller.server.js';
import {
  startFakePaymentChannel,
  type FakePaymentChannel,
} from '../support/fake-payment.server.js';
import { FakeTelegram } from '../support/fake-telegram.server.js';
import { freePort, spawnTasdeed, waitFor } from '../support/harness.js';
import {
  createTestDatabase,
  NO_POSTGRES,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/pg.js';
import {
  busiestSecond,
  calmZone,
  catalogueJson,
  createSubscribers,
  farQuietHours,
  Fleet,
  localDay,
  PAYMENT_SECRET,
  prepareDatabase,
  tempDir,
  TWILIO_FROM,
  writeJson,
  type FleetDatabase,
  type NewSubscriber,
} from './fleet-rig.js';

const TELEGRAM_RECIPIENTS = 9_000;
const SMS_RECIPIENTS = 1_000;
const FIRST_CHAT = 810_000;
const BROADCAST = 'انقطاع مبرمج للكهرباء يوم الخميس من 9 إلى 14. نعتذر عن الإزعاج.';

/** A phone number of the n-th SMS recipient. */
const phone = (prefix: string, n: number) => `+963${prefix}${String(n).padStart(6, '0')}`;

/** Counts per key. */
function tally<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** Per member, how many of the items it sent. */
function perMember(items: Array<{ member: number }>, size: number): number[] {
  const counts = Array.from({ length: size }, () => 0);
  for (const item of items) counts[item.member]! += 1;
  return counts;
}

const plain = (text: unknown) => String(text).replace(/[\u2068\u2069]/g, '');

describe(
  'three instances on one PostgreSQL database',
  { skip: TEST_DATABASE_URL ? false : NO_POSTGRES },
  () => {
    let biller: FakeBiller;
    let channel: FakePaymentChannel;
    let files: ReturnType<typeof tempDir>;
    let cataloguePath: string;
    let catalogue: Record<string, unknown>;
    const zone = calmZone();
    const started = Date.now();
    const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

    before(async () => {
      biller = await startFakeBiller();
      channel = await startFakePaymentChannel({ webhookSecret: PAYMENT_SECRET });
      files = tempDir();
      catalogue = catalogueJson(biller.url, channel.url);
      cataloguePath = writeJson(files.dir, 'catalogue.json', catalogue);
    });
    after(async () => {
      await biller.close();
      await channel.close();
      files.remove();
    });

    /** Env shared by every member of a fleet. */
    const commonEnv = () => ({
      TASDEED_TIMEZONE: zone,
      // The send hour is midnight: the latest send time is always today, whenever this runs.
      TASDEED_SEND_HOUR: '0',
      TASDEED_QUIET_HOURS: farQuietHours(zone),
    });

    describe('a broadcast, a reminder tick and a payment webhook', () => {
      let pg: TestDatabase;
      let db: FleetDatabase;
      let fleet: Fleet | null = null;
      /** Reminder followers: Telegram chats and SMS numbers, and the bills they follow. */
      const reminderChats = Array.from({ length: 20 }, (_, i) => String(950_000 + i));
      const reminderPhones = [phone('933', 1), phone('933', 2)];
      const bills = {
        before: { account: '7100001', due: localDay(zone, 3) }, // offset -3
        today: { account: '7100002', due: localDay(zone, 0) }, // offset 0
        overdue: { account: '7100003', due: localDay(zone, -3) }, // offset 3
        noSlot: { account: '7100004', due: localDay(zone, 1) }, // no offset lands today
        paid: { account: '7100005', due: localDay(zone, 0), status: 'paid' as const },
      };
      const payAccount = '7100099';

      before(async () => {
        pg = await createTestDatabase();
        db = await prepareDatabase(pg.url, catalogue);
        for (const b of Object.values(bills)) {
          biller.addAccount({
            account: b.account,
            holder: 'محمد خالد الأحمد',
            governorate: 'DAM',
            bills: [
              {
                id: `E-${b.account}`,
                period: '9-10',
                amountMinor: 1_875_000,
                currency: 'SYP',
                dueDate: b.due,
                status: 'status' in b ? b.status : 'unpaid',
              },
            ],
          });
        }
        biller.addAccount({
          account: payAccount,
          holder: 'سلمى يوسف',
          governorate: 'DAM',
          bills: [
            {
              id: `E-${payAccount}`,
              period: '9-10',
              amountMinor: 2_250_000,
              currency: 'SYP',
              dueDate: localDay(zone, 20),
              status: 'unpaid',
            },
          ],
        });
        const follows = Object.values(bills).map((b) => b.account);
        const people: NewSubscriber[] = [
          ...Array.from({ length: TELEGRAM_RECIPIENTS }, (_, i) => ({
            channel: 'telegram' as const,
            address: String(FIRST_CHAT + i),
            governorate: 'HOM',
          })),
          ...Array.from({ length: SMS_RECIPIENTS }, (_, i) => ({
            channel: 'sms' as const,
            address: phone('944', i),
            governorate: 'HOM',
          })),
          ...reminderChats.map((address) => ({ channel: 'telegram' as const, address, follows })),
          ...reminderPhones.map((address) => ({
            channel: 'sms' as const,
            address,
            follows: [bills.before.account],
          })),
        ];
        await createSubscribers(db.client, people);
        // All three at once: each one's reminders job runs at start, so three ticks race.
        fleet = await Fleet.start({
          size: 3,
          databaseUrl: pg.url,
          cataloguePath,
          env: {
            ...commonEnv(),
            TELEGRAM_BULK_PER_SECOND: '5000',
            SMS_MAX_PER_SECOND: '5000',
          },
        });
      });
      after(async () => {
        const codes = await fleet?.stop();
        await db?.close();
        await pg?.drop();
        if (codes)
          assert.deepEqual(codes, [0, 0, 0], `graceful stop exits 0:\n${fleet?.outputs()}`);
      });

      it('three reminders jobs ticking at once: one job run, one reminder per bill, offset and subscriber', async (t) => {
        const f = fleet!;
        t.diagnostic(`fleet up after ${since()}`);
        const expected = reminderChats.length * 3 + reminderPhones.length;
        // Each instance's at-start tick logs its result: one did the work, two found it taken.
        const tickResults = () =>
          f.members.map((m) => {
            const line = m.proc
              .output()
              .split('\n')
              .find((l) => l.includes('"job":"reminders"') && l.includes('job finished'));
            return line ? (JSON.parse(line) as { result: { status: string } }).result.status : null;
          });
        const rows = await waitFor(
          'the reminders to be sent and every tick to be over',
          async () => {
            const rows = await db.client.outboxItem.findMany({ where: { kind: 'reminder' } });
            const sent = rows.length >= expected && rows.every((r) => r.status === 'sent');
            return sent && tickResults().every((r) => r !== null) ? rows : null;
          },
          60_000,
        );
        assert.equal(rows.length, expected);

        const runs = await db.client.jobRun.findMany({ where: { job: 'reminders' } });
        assert.equal(runs.length, 1, JSON.stringify(runs));
        assert.ok(runs[0]!.finishedAt, 'the run finished');
        const results = tickResults();
        assert.deepEqual(results.sort(), ['done', 'taken', 'taken']);
        // The accounts were asked about once, by the instance that ran the tick.
        for (const b of Object.values(bills)) {
          assert.equal(
            biller.requestsTo('GET', `/accounts/${b.account}/bills`).length,
            1,
            b.account,
          );
        }

        // At the stand-ins: per chat, one reminder for each bill that has a slot today.
        const reminders = f
          .telegramSent()
          .filter((c) => reminderChats.includes(String(c.params.chat_id)));
        const kinds = tally(reminders, (c) => {
          const text = plain(c.params.text);
          const account = /7100\d{3}/.exec(text)?.[0] ?? '?';
          return `${String(c.params.chat_id)}:${account}`;
        });
        for (const chat of reminderChats) {
          for (const b of [bills.before, bills.today, bills.overdue])
            assert.equal(
              kinds.get(`${chat}:${b.account}`),
              1,
              `chat ${chat}, account ${b.account}`,
            );
        }
        assert.equal(reminders.length, reminderChats.length * 3, 'nothing else, no repeat');
        const byText = reminders.map((c) => plain(c.params.text));
        assert.ok(byText.some((x) => /^تذكير: .*7100001.*تستحق في/.test(x)));
        assert.ok(byText.some((x) => /^تذكير: .*7100002.*تستحق اليوم/.test(x)));
        assert.ok(byText.some((x) => /7100003.*تأخرت عن موعدها/.test(x)));
        const sms = f.smsSent().filter((s) => reminderPhones.includes(s.form.To ?? ''));
        assert.deepEqual(
          sms.map((s) => s.form.To).sort(),
          reminderPhones,
          'one SMS reminder to each follower of the bill due in three days',
        );
        t.diagnostic(
          `reminders per instance (Telegram + SMS): ${perMember([...reminders, ...sms], 3).join(', ')}`,
        );
        // Reported, not asserted: each instance spaces a chat's bulk messages (~1/s), the
        // fleet does not, so one chat's three reminders may come from three instances at once.
        const gaps = reminderChats.map((chat) => {
          const at = reminders
            .filter((c) => String(c.params.chat_id) === chat)
            .map((c) => c.mono)
            .sort((a, b) => a - b);
          return Math.min(...at.slice(1).map((x, i) => x - at[i]!));
        });
        t.diagnostic(
          `closest two reminders to one chat: ${Math.min(...gaps).toFixed(0)} ms apart; chats with two within 1 s: ${gaps.filter((g) => g < 1_000).length} of ${gaps.length}`,
        );
      });

      it('a 10,000-recipient broadcast posted to one instance: each recipient once, the work shared', async (t) => {
        const f = fleet!;
        const created = await f.admin(0, 'POST', '/admin/broadcasts', {
          text: { ar: BROADCAST },
          audience: { governorates: ['HOM'] },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.equal(created.body.recipients, TELEGRAM_RECIPIENTS + SMS_RECIPIENTS);
        const id = String(created.body.id);
        const posted = Date.now();

        let done: Record<string, unknown> | null = null;
        for (const end = Date.now() + 180_000; !done;) {
          // Progress is the same wherever it is asked.
          const p = await f.admin(2, 'GET', `/admin/broadcasts/${id}`);
          if (p.body.status === 'done') done = p.body;
          else if (Date.now() > end) assert.fail(`not done: ${JSON.stringify(p.body)}`);
          else await new Promise((r) => setTimeout(r, 500));
        }
        t.diagnostic(
          `broadcast done ${((Date.now() - posted) / 1000).toFixed(1)} s after it was posted`,
        );
        assert.deepEqual(done.counts, {
          queued: 0,
          sent: TELEGRAM_RECIPIENTS + SMS_RECIPIENTS,
          delivered: 0,
          failed: 0,
          skipped: 0,
          cancelled: 0,
        });

        const tg = f.telegramSent().filter((c) => c.params.text === BROADCAST);
        const perChat = tally(tg, (c) => String(c.params.chat_id));
        const missing: number[] = [];
        for (let i = 0; i < TELEGRAM_RECIPIENTS; i++) {
          if (perChat.get(String(FIRST_CHAT + i)) !== 1) missing.push(FIRST_CHAT + i);
        }
        assert.deepEqual(
          missing.slice(0, 20),
          [],
          `${missing.length} chats did not get it exactly once`,
        );
        assert.equal(tg.length, TELEGRAM_RECIPIENTS, 'no Telegram message beyond one per chat');

        const sms = f.smsSent().filter((s) => s.form.Body === BROADCAST);
        const perPhone = tally(sms, (s) => s.form.To ?? '');
        for (let i = 0; i < SMS_RECIPIENTS; i++)
          assert.equal(perPhone.get(phone('944', i)), 1, phone('944', i));
        assert.equal(sms.length, SMS_RECIPIENTS, 'no SMS beyond one per number');

        const tgShare = perMember(tg, 3);
        const smsShare = perMember(sms, 3);
        t.diagnostic(
          `Telegram per instance: ${tgShare.join(', ')}; SMS per instance: ${smsShare.join(', ')}`,
        );
        for (let i = 0; i < 3; i++) {
          assert.ok(tgShare[i]! + smsShare[i]! > 0, `instance ${i} sent nothing`);
        }
      });

      it('the same signed payment webhook to all three at once: one transition, one settlement, one receipt', async (t) => {
        const f = fleet!;
        const payer = '+963944777001';
        // The payer starts the payment by SMS through the first instance.
        const inbound = await f.members[0]!.twilio.sendSignedWebhook(
          `${f.members[0]!.url}/sms/twilio/inbound`,
          {
            MessageSid: `SM${randomUUID().replace(/-/g, '')}`,
            AccountSid: f.members[0]!.twilio.accountSid,
            From: payer,
            To: TWILIO_FROM,
            Body: `ادفع كهرباء ${payAccount}`,
          },
        );
        assert.equal(inbound.status, 200, inbound.body);
        const toPayer = () => f.smsSent().filter((s) => s.form.To === payer);
        const started = await waitFor(
          'the payment reference',
          () => toPayer().find((s) => /P-[0-9A-Z]{10}/.test(s.form.Body ?? '')),
          30_000,
        );
        const ref = /P-[0-9A-Z]{10}/.exec(started.form.Body ?? '')![0];
        const provider = await waitFor('the initiation', () => channel.paymentFor(ref));

        // One event, signed once, the very same bytes to every instance at the same moment.
        const body = JSON.stringify({
          eventId: randomUUID(),
          providerRef: provider.providerRef,
          reference: ref,
          status: 'succeeded',
          amountMinor: provider.amountMinor,
          occurredAt: new Date().toISOString(),
        });
        const signature = channel.sign(body);
        channel.setStatus(provider.providerRef, 'succeeded');
        const answers = await Promise.all(
          f.members.map(async (m) => {
            const res = await fetch(`${m.url}/payments/webhook/wallet`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', 'X-Tasdeed-Signature': signature },
              body,
            });
            return { status: res.status, body: (await res.json()) as { outcome?: string } };
          }),
        );
        assert.deepEqual(
          answers.map((a) => a.status),
          [200, 200, 200],
          JSON.stringify(answers),
        );
        assert.deepEqual(answers.map((a) => a.body.outcome).sort(), [
          'applied',
          'duplicate',
          'duplicate',
        ]);

        await waitFor(
          'the settlement to be acknowledged',
          async () => (await db.store.getPayment(ref))?.settlementStatus === 'acknowledged',
          30_000,
        );
        // Everything the payment caused has been handled before counting.
        await waitFor(
          'the outbox to be idle',
          async () =>
            (await db.client.outboxItem.count({
              where: { status: { in: ['queued', 'leased'] } },
            })) === 0,
          30_000,
        );
        const payment = await db.store.getPayment(ref);
        assert.equal(payment?.status, 'succeeded');
        const transitions = (await db.store.auditTrail('payment', ref)).filter(
          (a) => a.toState === 'succeeded',
        );
        assert.equal(transitions.length, 1, JSON.stringify(transitions));
        assert.equal((await db.store.paymentEvents(ref)).length, 1);
        const settlements = biller.settlements.filter((s) => s.billId === `E-${payAccount}`);
        assert.deepEqual(
          settlements.map((s) => [s.outcome, s.idempotencyKey]),
          [['settled', ref]],
        );
        const receipts = toPayer().filter((s) => /^إيصال/.test(s.form.Body ?? ''));
        assert.equal(receipts.length, 1, JSON.stringify(toPayer().map((s) => s.form.Body)));
        t.diagnostic(`receipt sent by instance ${receipts[0]!.member}`);
      });
    });

    it('a second instance asked to poll Telegram while one polls exits non-zero, saying why', async () => {
      const pg = await createTestDatabase();
      const telegram = await new FakeTelegram().start();
      const env = async () => {
        const port = await freePort();
        return {
          PORT: String(port),
          HOST: '127.0.0.1',
          PUBLIC_URL: `http://127.0.0.1:${port}`,
          DATABASE_URL: pg.url,
          TASDEED_CATALOGUE: cataloguePath,
          TELEGRAM_BOT_TOKEN: telegram.token,
          TELEGRAM_API_ROOT: telegram.apiRoot,
          TELEGRAM_MODE: 'polling',
          LOG_LEVEL: 'warn',
        };
      };
      const first = spawnTasdeed(await env());
      try {
        await waitFor(
          'the polling instance to listen',
          () => {
            if (first.child.exitCode !== null) throw new Error(first.output());
            return telegram.callsOf('getUpdates').length > 0;
          },
          120_000,
        );
        const second = spawnTasdeed(await env());
        const code = await second.exited;
        assert.notEqual(code, 0);
        assert.match(
          second.output(),
          /tasdeed: TELEGRAM_MODE=polling: another instance on this database is already polling Telegram, and long polling allows one consumer; set TELEGRAM_MODE=webhook/,
        );
        assert.equal(first.child.exitCode, null, 'the first instance keeps polling');
      } finally {
        first.child.kill('SIGTERM');
        const code = await first.exited;
        await telegram.close();
        await pg.drop();
        assert.equal(code, 0, first.output());
      }
    });

    it('TELEGRAM_BULK_PER_SECOND=30 holds for the fleet: never more than 30 bulk messages in a second', async (t) => {
      const recipients = 600;
      const pg = await createTestDatabase();
      const db = await prepareDatabase(pg.url, catalogue);
      let fleet: Fleet | null = null;
      try {
        await createSubscribers(
          db.client,
          Array.from({ length: recipients }, (_, i) => ({
            channel: 'telegram' as const,
            address: String(870_000 + i),
            governorate: 'HOM',
          })),
        );
        fleet = await Fleet.start({
          size: 3,
          databaseUrl: pg.url,
          cataloguePath,
          env: { ...commonEnv(), TELEGRAM_BULK_PER_SECOND: '30' },
        });
        // An instance splits the limit at its heartbeats; one that started before the others
        // holds its whole share until its next one (5 s). The broadcast goes out once every
        // instance counts three, so no allowance is needed: 30 in any second, strictly.
        await fleet.waitForShare(3);
        const created = await fleet.admin(1, 'POST', '/admin/broadcasts', {
          text: { ar: BROADCAST },
          audience: { governorates: ['HOM'] },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const sent = () => fleet!.telegramSent().filter((c) => c.params.text === BROADCAST);
        await waitFor('the broadcast to be sent', () => sent().length >= recipients, 120_000);
        const calls = sent();
        assert.equal(calls.length, recipients);
        const busiest = busiestSecond(calls.map((c) => c.mono));
        const span =
          (Math.max(...calls.map((c) => c.mono)) - Math.min(...calls.map((c) => c.mono))) / 1000;
        t.diagnostic(
          `${recipients} messages in ${span.toFixed(1)} s; busiest second: ${busiest.count}; per instance: ${perMember(calls, 3).join(', ')}`,
        );
        assert.ok(busiest.count <= 30, `${busiest.count} bulk messages in one second`);
        for (const n of perMember(calls, 3)) assert.ok(n > 0, 'every instance took part');
      } finally {
        const codes = fleet ? await fleet.stop() : null;
        await db.close();
        await pg.drop();
        if (codes)
          assert.deepEqual(codes, [0, 0, 0], `graceful stop exits 0:\n${fleet?.outputs()}`);
      }
    });
  },
);
