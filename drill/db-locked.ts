/**
 * The database refuses writes for a moment while traffic flows (docs/design.md §3: readiness "503
 * while the database is unreachable"; §2: "nothing is lost if the process dies between
 * 'decided to send' and 'sent'").
 *
 * How, two ways (chmod on the file and its -wal cannot do it: SQLite keeps the descriptors it
 * opened read-write, and the permission is only checked when a file is opened, so a running
 * process never notices):
 *  - the write lock: another process takes SQLite's write lock (BEGIN IMMEDIATE) and holds it,
 *    three times, for 6.5 to 12 s — longer than Tasdeed's 5 s busy timeout, so that Tasdeed's
 *    writes fail with SQLITE_BUSY — as when a backup tool or an operator's sqlite3 shell holds
 *    the file;
 *  - the files refuse writes: Tasdeed's own file size limit is lowered to 0 for 9 s
 *    (`prlimit --pid <pid> --fsize=0:`, util-linux, no privilege needed for one's own process),
 *    so that every write to the database and its -wal fails with EFBIG, which SQLite reports
 *    as SQLITE_IOERR_WRITE ("disk I/O error") — as on a full disk or a file system remounted
 *    read-only; reads go on. Skipped, and said so, where prlimit is missing (not Linux).
 *
 * Meanwhile people keep asking for bills by SMS (Twilio stand-in) and Telegram, and a payment
 * channel confirms payments. Like people, they write again before an answer comes, but not
 * endlessly: each has at most a few messages unanswered (or waits a while), so that the
 * traffic stays within what this machine processes and "answered N s after the last episode"
 * measures the recovery, not a backlog the drill's own flood built up.
 * Senders do what the real ones do with an answer that is not 2xx:
 * Telegram and the payment channel retry, and so does the drill for SMS (counted apart:
 * Twilio itself would go to its fallback URL). Promises: a clear sign while it lasts (readyz
 * not ready, or an error logged), ready again afterwards, and nothing lost: every message
 * acknowledged gets its reply, every payment event is applied with one receipt and one
 * settlement.
 */
import BetterSqlite3 from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeBiller } from '../test/support/fake-biller.server.js';
import { startFakePaymentChannel } from '../test/support/fake-payment.server.js';
import { FakeTelegram, textUpdate } from '../test/support/fake-telegram.server.js';
import { startFakeTwilio, type FakeTwilio } from '../test/support/fake-twilio.server.js';
import { sqliteDrillDatabase, type DrillDatabase } from './database.js';
import { checkSmsBudget } from './sms-budget-check.js';
import {
  baseEnv,
  TWILIO_FROM,
  TG_SECRET,
  twilioEnv,
  telegramWebhookEnv,
  catalogueFrom,
  Child,
  errorLines,
  httpCatalogueFile,
  mapLimit,
  n,
  paymentRef,
  paymentView,
  Promises,
  tempDir,
  unpaidAccount,
  waitUntil,
  type Drill,
  type DrillOutcome,
} from './support.js';

const SECRET = 'whsec-drill-locked-0123456789';
/** How the database refuses writes in an episode: its write lock held, or its files unwritable. */
type EpisodeKind = 'locked' | 'unwritable';
interface Episode {
  kind: EpisodeKind;
  ms: number;
}
/** Locks each longer than the 5 s busy timeout, ending at different offsets; then no writes. */
const EPISODES: readonly Episode[] = [
  { kind: 'locked', ms: 6_500 },
  { kind: 'locked', ms: 9_000 },
  { kind: 'locked', ms: 12_000 },
  { kind: 'unwritable', ms: 9_000 },
];
const QUICK_EPISODES: readonly Episode[] = [
  { kind: 'locked', ms: 9_000 },
  { kind: 'unwritable', ms: 6_000 },
];
/** What an error logged during an episode says when it names the cause. */
const NAMES_CAUSE: Record<EpisodeKind, RegExp> = {
  locked: /locked|busy|SQLITE_BUSY/i,
  unwritable: /I\/O error|IOERR|SQLITE_FULL|readonly/i,
};
const GAP_MS = 2_000;
/** A person writes again with at most this many messages unanswered… */
const MAX_UNANSWERED = 3;
/** …or after waiting this long for an answer. */
const PATIENCE_MS = 15_000;
const isReceipt = (text: string) => text.startsWith('إيصال');

function smsTo(twilio: FakeTwilio, to: string): string[] {
  return twilio.messages.filter((m) => m.form.To === to).map((m) => m.form.Body ?? '');
}

/** A process's soft file size limit ("unlimited" or bytes); null where prlimit is missing. */
function fileSizeLimit(pid: number): string | null {
  try {
    return execFileSync('prlimit', [
      '--pid',
      String(pid),
      '--fsize',
      '--raw',
      '--noheadings',
      '--output',
      'SOFT',
    ])
      .toString()
      .trim();
  } catch {
    return null;
  }
}

function setFileSizeLimit(pid: number, soft: string): void {
  execFileSync('prlimit', ['--pid', String(pid), `--fsize=${soft}:`]);
}

/** Waits until `answers()` reaches `want`, at most PATIENCE_MS, while `going()`. */
async function awaitAnswers(
  answers: () => number,
  want: number,
  going: () => boolean,
): Promise<void> {
  for (const end = Date.now() + PATIENCE_MS; going() && answers() < want && Date.now() < end;) {
    await sleep(100);
  }
}

/** Sends until the answer is 2xx (as Telegram and payment channels do); counts the refusals. */
async function untilAccepted(
  send: () => Promise<number>,
  refused: Map<number | string, number>,
): Promise<void> {
  for (const end = Date.now() + 120_000; ;) {
    let status: number | string;
    try {
      status = await send();
    } catch (error) {
      status = error instanceof Error ? error.name : 'error';
    }
    if (typeof status === 'number' && status >= 200 && status < 300) return;
    refused.set(status, (refused.get(status) ?? 0) + 1);
    if (Date.now() > end) throw new Error(`still refused after 120 s (${status})`);
    await sleep(250);
  }
}

export const dbLocked: Drill = {
  name: 'db-locked',
  what: 'the database refuses writes (lock held, files unwritable): clear error, nothing lost',
  only: {
    dialect: 'sqlite',
    why: "what it does (another connection holding SQLite's write lock, Tasdeed's files refusing writes) is SQLite's",
  },
  async run(ctx): Promise<DrillOutcome> {
    const payments = ctx.quick ? 8 : 24;
    const promises = new Promises();
    const dir = tempDir('db-locked');
    const biller = await startFakeBiller();
    const channel = await startFakePaymentChannel({ webhookSecret: SECRET });
    const twilio = await startFakeTwilio();
    const tg = await new FakeTelegram().start();
    let child: Child | null = null;
    let locker: BetterSqlite3.Database | null = null;
    let db: DrillDatabase | null = null;
    try {
      // What this drill does to the database is SQLite's (its file lock and files): a SQLite
      // file (the drill is skipped on PostgreSQL).
      db = await sqliteDrillDatabase(dir.path);
      const drillDb = db;
      const file = join(dir.path, 'tasdeed.db');
      const catalogueFile = httpCatalogueFile(dir.path, {
        billerUrl: biller.url,
        paymentUrl: channel.url,
        webhookSecret: SECRET,
      });
      const planned = ctx.quick ? QUICK_EPISODES : EPISODES;
      const env = await baseEnv(db, {
        TASDEED_CATALOGUE: catalogueFile,
        ...twilioEnv(twilio, twilio.url),
        SMS_MAX_PER_SECOND: '1000',
        SMS_REPLIES_PER_HOUR: '100000',
        ...telegramWebhookEnv(tg),
      });
      child = await Child.boot(env);
      const url = child.url;
      const pid = child.pid;
      const sizeLimit = pid === undefined ? null : fileSizeLimit(pid);
      const episodes = planned.filter((e) => e.kind === 'locked' || sizeLimit !== null);
      const skipped = planned.length - episodes.length;
      for (let i = 0; i < 50; i++) biller.addAccount(unpaidAccount(String(7_600_000 + i)));

      // Payments waiting for their confirmation.
      const payers = Array.from({ length: payments }, (_, i) => ({
        phone: `+9639447${String(10_000 + i).padStart(5, '0')}`,
        account: String(7_600_000 + i),
        ref: '',
        providerRef: '',
      }));
      await mapLimit(payers, 8, async (p) => {
        await twilio.sendSignedWebhook(`${url}/sms/twilio/inbound`, {
          MessageSid: `SM${randomBytes(16).toString('hex')}`,
          AccountSid: twilio.accountSid,
          From: p.phone,
          To: TWILIO_FROM,
          Body: `ادفع كهرباء ${p.account}`,
        });
        p.ref = await waitUntil(
          `the pay reply to ${p.phone}`,
          () => smsTo(twilio, p.phone).map(paymentRef).find(Boolean),
          30_000,
        );
        p.providerRef = (
          await waitUntil(`the initiation of ${p.ref}`, () => channel.paymentFor(p.ref), 30_000)
        ).providerRef;
      });
      ctx.note(`${payers.length} payments pending`);

      // Traffic: people asking for bills by SMS and Telegram, one message after another.
      const refused = {
        sms: new Map<number | string, number>(),
        telegram: new Map<number | string, number>(),
        webhook: new Map<number | string, number>(),
      };
      const smsSids: string[] = [];
      const tgUpdates: number[] = [];
      let traffic = true;
      let nextUpdate = 5_000_000;
      const smsPerson = async (i: number) => {
        const from = `+9639447${String(50_000 + i).padStart(5, '0')}`;
        for (let k = 0; traffic; k++) {
          await awaitAnswers(
            () => smsTo(twilio, from).length,
            k + 1 - MAX_UNANSWERED,
            () => traffic,
          );
          if (!traffic) break;
          const sid = `SM${randomBytes(16).toString('hex')}`;
          const params = {
            MessageSid: sid,
            AccountSid: twilio.accountSid,
            From: from,
            To: TWILIO_FROM,
            Body: `فاتورة كهرباء ${7_600_000 + ((i + k) % 50)}`,
          };
          await untilAccepted(
            async () =>
              (await twilio.sendSignedWebhook(`${url}/sms/twilio/inbound`, params)).status,
            refused.sms,
          );
          smsSids.push(sid);
          await sleep(20);
        }
      };
      const tgPerson = async (i: number) => {
        const chat = 950_000 + i;
        const answers = () => tg.delivered(chat).length;
        for (let k = 0; traffic; k++) {
          await awaitAnswers(answers, k + 1 - MAX_UNANSWERED, () => traffic);
          if (!traffic) break;
          const update = {
            ...textUpdate(chat, `فاتورة كهرباء ${7_600_000 + ((i + k) % 50)}`),
            update_id: nextUpdate++,
          };
          await untilAccepted(async () => {
            const res = await fetch(`${url}/telegram/webhook`, {
              method: 'POST',
              headers: {
                'Content-Type': 'application/json',
                'X-Telegram-Bot-Api-Secret-Token': TG_SECRET,
              },
              body: JSON.stringify(update),
              signal: AbortSignal.timeout(10_000),
            });
            await res.arrayBuffer();
            return res.status;
          }, refused.telegram);
          tgUpdates.push(update.update_id);
          await sleep(100);
        }
      };
      const people = Promise.all([
        ...Array.from({ length: 8 }, (_, i) => smsPerson(i)),
        ...Array.from({ length: 4 }, (_, i) => tgPerson(i)),
      ]);

      // readyz, every 250 ms, answered within 2 s or counted as no answer.
      const ready = new Map<string, number>();
      let watching = true;
      let phase: 'before' | EpisodeKind | 'after' = 'before';
      const watcher = (async () => {
        while (watching) {
          const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })
            .then((r) => String(r.status))
            .catch(() => 'no answer');
          const key = `${phase} ${status}`;
          ready.set(key, (ready.get(key) ?? 0) + 1);
          await sleep(250);
        }
      })();

      await sleep(GAP_MS);
      const logBefore = child.output().length;
      // The payment channel confirms the payments while the episodes come and go.
      const confirm = (p: (typeof payers)[number]) =>
        untilAccepted(async () => {
          const res = await channel.sendWebhook(`${url}/payments/webhook/wallet`, {
            providerRef: p.providerRef,
            status: 'succeeded',
          });
          return res.status;
        }, refused.webhook);
      const confirming = mapLimit(payers, 1, async (p) => {
        await confirm(p);
        await sleep((episodes.reduce((a, e) => a + e.ms + GAP_MS, 0) / payers.length) | 0);
      });
      let released = Date.now();
      /** The log written from each episode's start to the next one's, by kind. */
      const episodeLogs: Record<EpisodeKind, string> = { locked: '', unwritable: '' };
      for (const episode of episodes) {
        const logAt = child.output().length;
        if (episode.kind === 'locked') {
          // The write lock, taken by another process's connection and held past the busy timeout.
          locker = new BetterSqlite3(file);
          locker.pragma('busy_timeout = 30000');
          locker.exec('BEGIN IMMEDIATE');
          phase = 'locked';
          ctx.note(`write lock taken for ${episode.ms} ms`);
          await sleep(episode.ms);
          locker.exec('ROLLBACK');
          locker.close();
          locker = null;
        } else {
          // Every write to a file by Tasdeed fails (EFBIG) while its file size limit is 0.
          setFileSizeLimit(pid!, '0');
          phase = 'unwritable';
          ctx.note(`files unwritable for ${episode.ms} ms`);
          await sleep(episode.ms);
          setFileSizeLimit(pid!, sizeLimit!);
        }
        released = Date.now();
        phase = 'after';
        await sleep(GAP_MS);
        episodeLogs[episode.kind] += child.output().slice(logAt);
      }
      await confirming;
      await sleep(3_000);
      traffic = false;
      await people;
      const logDuring = child.output().slice(logBefore);

      // Everything acknowledged is answered, every payment settled with its receipt.
      const replyDone = async (prefix: string) => {
        const rows = await drillDb.rows<{ k: string; status: string }>(
          `SELECT "dedupeKey" AS k, status FROM "OutboxItem" WHERE "dedupeKey" LIKE ?`,
          [`${prefix}%`],
        );
        return new Map(rows.map((r) => [r.k.split(':').slice(0, -1).join(':'), r.status]));
      };
      let unanswered: { sms: number; telegram: number } = { sms: 0, telegram: 0 };
      const settled = async () => {
        const sms = await replyDone('sms:twilio:');
        const tgRows = await replyDone('telegram:');
        unanswered = {
          sms: smsSids.filter((sid) => sms.get(`sms:twilio:${sid}`) !== 'sent').length,
          telegram: tgUpdates.filter((id) => tgRows.get(`telegram:${id}`) !== 'sent').length,
        };
        if (unanswered.sms + unanswered.telegram > 0) return false;
        for (const p of payers) {
          const view = await paymentView(url, p.ref);
          if (view.payment.settlementStatus !== 'acknowledged') return false;
          if (!smsTo(twilio, p.phone).some(isReceipt)) return false;
        }
        return true;
      };
      const recovered = await waitUntil('everything answered', settled, 120_000, 500).catch(
        () => false,
      );
      const recoverySeconds = (Date.now() - released) / 1000;
      watching = false;
      await watcher;

      const errorsDuring = errorLines(logDuring);
      ctx.note(errorsDuring.map((l) => l.slice(0, 400)).join('\n'));
      /** Per kind of episode that ran: readyz while it lasted, and the errors naming its cause. */
      const signs = (['locked', 'unwritable'] as const)
        .filter((kind) => episodes.some((e) => e.kind === kind))
        .map((kind) => {
          const readyz = [...ready].filter(([k]) => k.startsWith(`${kind} `));
          return {
            kind,
            readyz: readyz.map(([k, v]) => `${v}×${k.slice(kind.length + 1)}`).join(' '),
            notReady: readyz.filter(([k]) => !k.endsWith(' 200')).length,
            named: errorLines(episodeLogs[kind]).filter((l) => NAMES_CAUSE[kind].test(l)).length,
          };
        });
      for (const sign of signs) {
        promises.check(
          sign.notReady > 0 || sign.named > 0,
          `no sign of the ${sign.kind} database: readyz ${sign.readyz}, no error naming it logged`,
        );
      }
      promises.check(
        (ready.get('after 200') ?? 0) > 0,
        `readyz never ready after the episodes: ${JSON.stringify(Object.fromEntries(ready))}`,
      );
      promises.check(
        recovered === true,
        `not everything answered 120 s after the last episode: ${unanswered.sms} SMS and ${unanswered.telegram} Telegram messages without a reply`,
      );
      const lostRows = await db.count(
        `SELECT (SELECT COUNT(*) FROM "SmsInbound" WHERE "error" IS NOT NULL)
              + (SELECT COUNT(*) FROM "TelegramUpdate" WHERE "error" IS NOT NULL) AS n`,
      );
      promises.check(
        lostRows === 0,
        `${lostRows} inbound messages recorded as failed (never answered)`,
      );
      // Every message here is a plain bill request: an inbox that sets one aside as poisonous
      // took the database's failure for the message's, and only a write failing in turn kept
      // it from being lost (src/db/unavailable.ts).
      const setAside = errorLines(child.output()).filter((l) =>
        /"msg":"(sms inbound failed|telegram update failed)"/.test(l),
      );
      promises.check(
        setAside.length === 0,
        `${setAside.length} inbound messages set aside as poisonous for a database failure, e.g. ${setAside[0]?.slice(0, 300) ?? ''}`,
      );
      let receipts = 0;
      let effects = 0;
      for (const p of payers) {
        const view = await paymentView(url, p.ref);
        const mine = smsTo(twilio, p.phone).filter(isReceipt).length;
        const settledHere = biller.settlements.filter(
          (s) => s.billId === `B-${p.account}` && s.outcome === 'settled',
        ).length;
        receipts += mine;
        effects += settledHere;
        promises.check(
          view.payment.status === 'succeeded' && mine === 1 && settledHere === 1,
          `${p.ref}: ${view.payment.status}, ${mine} receipts, ${settledHere} settlements`,
        );
      }
      const budget = await checkSmsBudget(db, catalogueFrom(catalogueFile), twilio.messages);
      const repeats = budget.sms - budget.expected;
      promises.check(child.alive(), 'Tasdeed died during the drill');
      const code = await child.stop();
      promises.check(code === 0, `graceful stop after the drill exited ${code}`);
      const refusals = (m: Map<number | string, number>) =>
        [...m].map(([k, v]) => `${v}×${k}`).join(' ') || 'none';
      const seconds = (kind: EpisodeKind) =>
        episodes
          .filter((e) => e.kind === kind)
          .map((e) => `${e.ms / 1000} s`)
          .join(', ');
      const during = (kind: EpisodeKind) => signs.find((x) => x.kind === kind);
      return {
        numbers:
          `write lock held ${seconds('locked')}` +
          (skipped > 0
            ? ` (files unwritable skipped: prlimit not available)`
            : `, files unwritable ${seconds('unwritable')}`) +
          ` under traffic: readyz while locked ${during('locked')?.readyz ?? ''}` +
          (skipped > 0 ? '' : `, while unwritable ${during('unwritable')?.readyz ?? ''}`) +
          `; ${errorsDuring.length} errors logged (${during('locked')?.named ?? 0} naming the lock` +
          (skipped > 0 ? '' : `, ${during('unwritable')?.named ?? 0} the I/O error`) +
          `); refused and retried: ` +
          `SMS ${refusals(refused.sms)}, Telegram ${refusals(refused.telegram)}, payment webhooks ${refusals(refused.webhook)}; ` +
          `${n(smsSids.length)} SMS and ${n(tgUpdates.length)} Telegram messages, ` +
          `${unanswered.sms + unanswered.telegram} unanswered (all answered ${recoverySeconds.toFixed(0)} s after the last episode, ` +
          `${repeats} SMS sent twice); ${payers.length} payments: ${receipts} receipts, ${effects} settlements`,
        problems: promises.broken,
        logTail: child.output().slice(-20_000),
      };
    } finally {
      locker?.close();
      await child?.kill();
      await tg.close();
      await twilio.close();
      await channel.close();
      await biller.close();
      dir.remove();
    }
  },
};
