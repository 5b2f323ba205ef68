/**
 * A biller down for the whole run (docs/design.md §1: "a biller that is down for hours"; §5: "anything
 * else or no answer in 5 s = biller unavailable (served from the last known bill, marked with
 * its age)"). Two billers: electricity answers every request with 503, water accepts the
 * connection and never answers. Subscribers ask for bills, pay and follow, through the SMS
 * front (Twilio stand-in) and the sandbox; half the accounts have a bill cached from three
 * hours before. Every answer is "not answering now" or the cached bill with its age, never an
 * error; both circuit breakers open (GET /metrics); the process survives and stops cleanly; the
 * SMS replies keep their segment budget.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { qirsh } from '../src/core/money.js';
import { startFakeBiller } from '../test/support/fake-biller.server.js';
import { startFakeTwilio, type FakeTwilio } from '../test/support/fake-twilio.server.js';
import { drillDatabase, type DrillDatabase } from './database.js';
import { seeded } from './fuzz-text.js';
import { checkSmsBudget, describeOverruns } from './sms-budget-check.js';
import {
  baseEnv,
  TWILIO_FROM,
  twilioEnv,
  catalogueFrom,
  Child,
  errorLines,
  finishedReply,
  mapLimit,
  n,
  Promises,
  tempDir,
  waitUntil,
  writeJson,
  type Drill,
  type DrillOutcome,
} from './support.js';

const CACHED_AGE_MS = 3 * 3_600_000;

/** Accepts connections and never answers. */
class SilentServer {
  url = '';
  requests = 0;
  private readonly open: ServerResponse[] = [];
  private readonly server = createServer((_req, res) => {
    this.requests += 1;
    this.open.push(res);
  });

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.open.splice(0)) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

type Intent = 'bill' | 'pay' | 'add';
const VERB: Record<Intent, string> = { bill: 'فاتورة', pay: 'ادفع', add: 'اشترك' };
const BILLER_WORD: Record<string, string> = { electricity: 'كهرباء', water: 'مياه' };

/** "Not answering now", in the Arabic texts (biller-unavailable, bill-cached, pay-biller-unavailable). */
const NOT_ANSWERING = 'لا تستجيب';
const CACHED = 'آخر فاتورة معروفة';
const FOLLOWED = 'تمت متابعة';

function smsTo(twilio: FakeTwilio, to: string): string[] {
  return twilio.messages.filter((m) => m.form.To === to).map((m) => m.form.Body ?? '');
}

/** The circuit state per biller from /metrics (0 closed, 1 half open, 2 open). */
async function circuitStates(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const states = new Map<string, number>();
  for (const m of text.matchAll(/^tasdeed_biller_circuit_state\{biller="([^"]+)"\} (\d+)/gm)) {
    states.set(m[1]!, Number(m[2]));
  }
  return states;
}

export const billerDown: Drill = {
  name: 'biller-down',
  what: 'billers down all run (503 / no answer): "not answering" or cached bill, breaker open',
  async run(ctx): Promise<DrillOutcome> {
    const inquiries = ctx.quick ? 240 : 1_000;
    const accountsPerBiller = 20;
    const promises = new Promises();
    const dir = tempDir('biller-down');
    const failing = await startFakeBiller();
    failing.down = true;
    const silent = await new SilentServer().listen();
    const twilio = await startFakeTwilio();
    let child: Child | null = null;
    const stopPolling = new AbortController();
    let db: DrillDatabase | null = null;
    try {
      db = await drillDatabase(dir.path);
      const drillDb = db;
      const catalogueFile = writeJson(dir.path, 'catalogue.json', {
        billers: [
          {
            id: 'electricity',
            name: { ar: 'الكهرباء', en: 'Electricity' },
            aliases: ['كهرباء'],
            accountPattern: '^[0-9]{6,12}$',
            adapter: { type: 'http', baseUrl: failing.url },
          },
          {
            id: 'water',
            name: { ar: 'المياه', en: 'Water' },
            aliases: ['مياه'],
            accountPattern: '^[0-9]{6,12}$',
            // No answer in 5 s (docs/design.md §5) = unavailable.
            adapter: { type: 'http', baseUrl: silent.url },
          },
        ],
        paymentChannels: [
          { id: 'bank', name: { ar: 'بنك', en: 'Bank' }, adapter: { type: 'simulated' } },
        ],
        coverage: {},
      });

      // Half the accounts were asked about three hours before the billers went down.
      const accounts = ['electricity', 'water'].flatMap((billerId, b) =>
        Array.from({ length: accountsPerBiller }, (_, i) => ({
          billerId,
          account: String(7_200_000 + b * 100_000 + i),
          cached: i % 2 === 0,
        })),
      );
      const { store, close } = db.connect();
      try {
        const fetchedAt = new Date(Date.now() - CACHED_AGE_MS);
        for (const a of accounts.filter((x) => x.cached)) {
          await store.saveAccountSnapshot({
            billerId: a.billerId,
            account: a.account,
            holder: 'سارة نزار القاسم',
            governorate: 'DAM',
            fetchedAt,
            bills: [
              {
                billerId: a.billerId,
                billId: `B-${a.account}`,
                account: a.account,
                period: '9-10',
                amountMinor: qirsh(2_000_000),
                currency: 'SYP',
                dueDate: '2026-11-28',
                status: 'unpaid',
                fetchedAt,
              },
            ],
          });
        }
      } finally {
        await close();
      }

      const env = await baseEnv(db, {
        TASDEED_CATALOGUE: catalogueFile,
        TASDEED_SANDBOX: '1',
        ...twilioEnv(twilio, twilio.url),
        SMS_MAX_PER_SECOND: '1000',
      });
      child = await Child.boot(env);
      const url = child.url;

      // The breakers' states, watched for the whole run.
      const seenOpen = new Set<string>();
      const polling = (async () => {
        while (!stopPolling.signal.aborted) {
          const states = await circuitStates(url).catch(() => new Map<string, number>());
          for (const [biller, state] of states) if (state === 2) seenOpen.add(biller);
          await sleep(250, undefined, { signal: stopPolling.signal }).catch(() => undefined);
        }
      })();

      const rnd = seeded(8);
      const jobs = Array.from({ length: inquiries }, (_, i) => {
        const a = accounts[Math.floor(rnd() * accounts.length)]!;
        const r = rnd();
        const intent: Intent = r < 0.6 ? 'bill' : r < 0.8 ? 'pay' : 'add';
        return { i, ...a, intent, front: i % 2 === 0 ? ('sms' as const) : ('sandbox' as const) };
      });
      let errors = 0;
      let notAnswering = 0;
      let cachedWithAge = 0;
      let followedFromCache = 0;
      const wrong: string[] = [];
      const smsNumbers: string[] = [];
      const started = Date.now();
      await mapLimit(jobs, 16, async (job) => {
        const text = `${VERB[job.intent]} ${BILLER_WORD[job.billerId]} ${job.account}`;
        let answer: string;
        if (job.front === 'sandbox') {
          const res = await fetch(`${url}/sandbox/messages`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({
              channel: job.i % 4 === 1 ? 'sms' : 'telegram',
              from: `drill-${job.i}`,
              text,
            }),
          });
          if (res.status !== 200) {
            errors += 1;
            wrong.push(`sandbox answered ${res.status} to "${text}"`);
            return;
          }
          answer = ((await res.json()) as { replies: string[] }).replies.join('\n');
        } else {
          const phone = `+9639445${String(10_000 + job.i).padStart(5, '0')}`;
          smsNumbers.push(phone);
          const sid = `SM${randomBytes(16).toString('hex')}`;
          const res = await twilio.sendSignedWebhook(`${url}/sms/twilio/inbound`, {
            MessageSid: sid,
            AccountSid: twilio.accountSid,
            From: phone,
            To: TWILIO_FROM,
            Body: text,
          });
          if (res.status !== 200) {
            errors += 1;
            wrong.push(`the SMS webhook answered ${res.status} to "${text}"`);
            return;
          }
          await waitUntil(
            `the SMS reply to "${text}"`,
            () => finishedReply(drillDb, `sms:twilio:${sid}:`),
            30_000,
            20,
          );
          answer = smsTo(twilio, phone).join('\n');
        }
        const cachedReply = answer.includes(CACHED) && /منذ/.test(answer);
        const ok =
          job.intent === 'bill' && job.cached
            ? cachedReply
            : job.intent === 'add' && job.cached
              ? answer.includes(FOLLOWED)
              : answer.includes(NOT_ANSWERING);
        if (cachedReply) cachedWithAge += 1;
        else if (answer.includes(FOLLOWED)) followedFromCache += 1;
        else if (answer.includes(NOT_ANSWERING)) notAnswering += 1;
        if (!ok)
          wrong.push(
            `${job.intent} ${job.billerId} (${job.cached ? 'cached' : 'never seen'}) answered ${JSON.stringify(answer)}`,
          );
      });
      const elapsed = Date.now() - started;
      // A last look once the breakers have had every inquiry.
      for (const [biller, state] of await circuitStates(url)) if (state === 2) seenOpen.add(biller);
      stopPolling.abort();
      await polling;

      promises.check(errors === 0, `${errors} requests answered with an error status`);
      promises.check(
        wrong.length === 0,
        `${wrong.length} answers were neither "not answering now" nor the cached bill: ${wrong.slice(0, 3).join(' | ')}`,
      );
      for (const biller of ['electricity', 'water']) {
        promises.check(seenOpen.has(biller), `the ${biller} circuit breaker never opened`);
      }
      const billerCalls = failing.requests.length + silent.requests;
      promises.check(
        billerCalls < inquiries / 2,
        `the billers were called ${billerCalls} times for ${inquiries} inquiries: the breaker did not spare them`,
      );
      const budget = await checkSmsBudget(db, catalogueFrom(catalogueFile), twilio.messages);
      promises.check(
        budget.overruns.length === 0,
        `SMS over budget: ${describeOverruns(budget.overruns).join(' | ')}`,
      );
      promises.check(child.alive(), 'Tasdeed died during the drill');
      const log = child.output();
      const errorsLogged = errorLines(log);
      promises.check(
        errorsLogged.length === 0,
        `${errorsLogged.length} errors logged, e.g. ${errorsLogged[0]?.slice(0, 300) ?? ''}`,
      );
      const code = await child.stop();
      promises.check(code === 0, `graceful stop after the drill exited ${code}`);
      return {
        numbers:
          `${n(inquiries)} requests (${n(smsNumbers.length)} by SMS) in ${(elapsed / 1000).toFixed(1)} s: ` +
          `${notAnswering} "not answering now", ${cachedWithAge} cached bills with their age, ` +
          `${followedFromCache} follows from the cache, ${errors} errors; breakers opened: ` +
          `${[...seenOpen].sort().join(', ') || 'none'}; ${billerCalls} calls reached the billers; ` +
          `${budget.overruns.length} SMS over budget`,
        problems: promises.broken,
        logTail: log.slice(-20_000),
      };
    } finally {
      stopPolling.abort();
      await child?.kill();
      await twilio.close();
      await silent.close();
      await failing.close();
      await db?.remove();
      dir.remove();
    }
  },
};
