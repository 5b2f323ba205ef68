/**
 * Random inputs through every front (DESIGN §9: "anything not understood gets a short help
 * reply (one SMS segment), never silence and never an error"). 100,000 texts (10,000 with
 * --quick) from drill/fuzz-text.ts: a fifth as signed Twilio inbound webhooks, a fifth as
 * Telegram webhook updates (with some button presses carrying random data), the rest through
 * the sandbox API, which runs the same conversation engine. Tasdeed runs as a child process
 * on the demo catalogue (simulated billers and payment channels, so commands reach bills,
 * payments and receipts).
 *
 * Promises: no crash (the process lives and stops cleanly), no 5xx, nothing logged at error
 * level, every inbound SMS and Telegram update processed without error and answered (unless its
 * sender had opted out), no outbox row failed, every SMS within its segment budget
 * (drill/sms-budget-check.ts), every Telegram message within Telegram's 4,096 characters.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadCatalogue } from '../src/config/catalogue.js';
import { Grammar } from '../src/core/conversation/grammar.js';
import { FakeTelegram, callbackUpdate } from '../test/support/fake-telegram.server.js';
import { startFakeTwilio } from '../test/support/fake-twilio.server.js';
import { Fuzzer, seeded, type FuzzOptions } from './fuzz-text.js';
import { checkSmsBudget, describeOverruns } from './sms-budget-check.js';
import {
  baseEnv,
  Child,
  errorLines,
  mapLimit,
  n,
  outboxCounts,
  Promises,
  readDb,
  tempDir,
  waitUntil,
  type Drill,
  type DrillOutcome,
} from './support.js';

const TWILIO_FROM = '+15005550006';
const TG_SECRET = 'drill-webhook-secret-0123456789';
const SEED = 20_261_125;

type Front = 'sms' | 'telegram' | 'sandbox';

interface Sender {
  front: Front;
  id: string;
  inputs: string[];
  /** Sandbox: which medium the sender writes as. */
  medium?: 'sms' | 'telegram';
  /** Telegram: the client's language (unset, Arabic, English or anything). */
  language?: string;
}

const LIMITS: Record<Front, FuzzOptions> = {
  sms: { maxLength: 1_600, surrogates: false, stopWords: false, empty: true },
  telegram: { maxLength: 4_096, surrogates: false, stopWords: false, empty: false },
  sandbox: { maxLength: 5_000, surrogates: true, stopWords: true, empty: true },
};


export const randomInputs: Drill = {
  name: 'random-inputs',
  what: '100,000 hostile texts via SMS, Telegram, sandbox: no crash, no 5xx, SMS within budget',
  async run(ctx): Promise<DrillOutcome> {
    const total = ctx.quick ? 10_000 : 100_000;
    const promises = new Promises();
    const dir = tempDir('random');
    const twilio = await startFakeTwilio();
    const tg = await new FakeTelegram().start();
    let child: Child | null = null;
    try {
      const file = join(dir.path, 'tasdeed.db');
      const env = await baseEnv(file, {
        TASDEED_SANDBOX: '1',
        SMS_GATEWAY: 'twilio',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM,
        TWILIO_API_ROOT: twilio.url,
        SMS_MAX_PER_SECOND: '100000',
        // The drill's senders write far more than a person does; the hourly cap is not tested here.
        SMS_REPLIES_PER_HOUR: '1000000',
        TELEGRAM_BOT_TOKEN: tg.token,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
      });
      child = await Child.boot(env);
      const url = child.url;
      const catalogue = loadCatalogue(null);
      if (!catalogue.ok) throw new Error(catalogue.problems.join('\n'));
      // A sandbox sender that wrote STOP (DESIGN §7) is rightly answered no more until START.
      const grammar = new Grammar(catalogue.catalogue);

      // Inputs, dealt to senders round-robin; each sender writes one message after another.
      const fuzz = new Fuzzer(seeded(SEED));
      const counts: Record<Front, number> = {
        sms: Math.round(total * 0.2),
        telegram: Math.round(total * 0.2),
        sandbox: total - 2 * Math.round(total * 0.2),
      };
      const senders: Sender[] = [];
      const makeSenders = (front: Front, howMany: number) => {
        const list = Array.from({ length: howMany }, (_, i): Sender => {
          const s: Sender = { front, id: '', inputs: [] };
          if (front === 'sms') s.id = `+9639448${String(10_000 + i).padStart(5, '0')}`;
          if (front === 'telegram') {
            s.id = String(900_000 + i);
            s.language = ['ar', 'en', 'fr', ''][i % 4];
          }
          if (front === 'sandbox') {
            s.medium = i % 2 === 0 ? 'sms' : 'telegram';
            // Sandbox senders are any name up to 64 characters.
            s.id =
              i % 5 === 0
                ? `s${i}-${fuzz.text({ ...LIMITS.sandbox, surrogates: false, maxLength: 40 })}`
                : `+9639449${String(10_000 + i).padStart(5, '0')}`;
          }
          return s;
        });
        for (let k = 0; k < counts[front]; k++) {
          list[k % list.length]!.inputs.push(fuzz.text(LIMITS[front]));
        }
        senders.push(...list);
        return list;
      };
      const smsSenders = makeSenders('sms', Math.max(50, Math.round(counts.sms / 25)));
      const tgSenders = makeSenders('telegram', Math.max(50, Math.round(counts.telegram / 25)));
      const boxSenders = makeSenders('sandbox', Math.max(100, Math.round(counts.sandbox / 25)));
      ctx.note(`${n(total)} inputs for ${senders.length} senders`);

      const statuses = new Map<string, number>();
      const count = (front: Front, status: number) => {
        const key = `${front} ${status}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      };
      const odd: string[] = [];
      let sandboxSilent = 0;
      let sent = 0;
      let updateId = 1_000_000;
      const tgText: number[] = [];
      let smsSid = 0;
      const started = Date.now();
      const progress = () => {
        sent += 1;
        if (sent % Math.round(total / 10) === 0) ctx.note(`${n(sent)} sent`);
      };

      const runSms = (s: Sender) =>
        (async () => {
          for (const text of s.inputs) {
            const sid = `SM${createHash('md5').update(String(smsSid++)).digest('hex')}`;
            const res = await twilio.sendSignedWebhook(`${url}/sms/twilio/inbound`, {
              MessageSid: sid,
              AccountSid: twilio.accountSid,
              From: s.id,
              To: TWILIO_FROM,
              Body: text,
            });
            count('sms', res.status);
            if (res.status !== 200 && odd.length < 5) odd.push(`SMS ${res.status} for ${JSON.stringify(text.slice(0, 80))}: ${res.body.slice(0, 200)}`);
            progress();
          }
        })();
      const runTelegram = (s: Sender) =>
        (async () => {
          const chat = Number(s.id);
          for (const [i, text] of s.inputs.entries()) {
            const id = updateId++;
            // One update in ten is a button press carrying random data.
            const update =
              i % 10 === 9
                ? { update_id: id, ...callbackUpdate(chat, fuzz.callbackData(), { messageAgeS: 30 }) }
                : {
                    update_id: id,
                    message: {
                      message_id: id,
                      date: Math.floor(Date.now() / 1000),
                      chat: { id: chat, type: 'private', first_name: 'Drill' },
                      from: {
                        id: chat,
                        is_bot: false,
                        first_name: 'Drill',
                        ...(s.language ? { language_code: s.language } : {}),
                      },
                      text,
                      ...(text.startsWith('/')
                        ? { entities: [{ type: 'bot_command', offset: 0, length: (/^\/\S*/.exec(text)?.[0] ?? '/').length }] }
                        : {}),
                    },
                  };
            if (!('callback_query' in update)) tgText.push(id);
            const res = await fetch(`${url}/telegram/webhook`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': TG_SECRET },
              body: JSON.stringify(update),
            });
            const body = await res.text();
            count('telegram', res.status);
            if (res.status !== 200 && odd.length < 5) odd.push(`Telegram ${res.status} for ${JSON.stringify(text.slice(0, 80))}: ${body.slice(0, 200)}`);
            progress();
          }
        })();
      const runSandbox = (s: Sender) =>
        (async () => {
          let stopped = false;
          for (const text of s.inputs) {
            const res = await fetch(`${url}/sandbox/messages`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ channel: s.medium, from: s.id, text }),
            });
            const body = await res.text();
            count('sandbox', res.status);
            if (res.status === 200) {
              const replies = (JSON.parse(body) as { replies: string[] }).replies;
              const command = grammar.parse(text).type;
              if (command === 'stop') stopped = true;
              else if (command === 'start') stopped = false;
              else if (replies.length === 0 && !stopped) sandboxSilent += 1;
            } else if (odd.length < 5) {
              odd.push(`sandbox ${res.status} for ${JSON.stringify(text.slice(0, 80))}: ${body.slice(0, 200)}`);
            }
            progress();
          }
        })();

      await Promise.all([
        mapLimit(smsSenders, 12, runSms),
        mapLimit(tgSenders, 12, runTelegram),
        mapLimit(boxSenders, 24, runSandbox),
      ]);
      const sendSeconds = (Date.now() - started) / 1000;
      ctx.note(`all sent in ${sendSeconds.toFixed(1)} s; waiting for the replies`);

      // Everything recorded is processed and every reply is out.
      const pending = () =>
        readDb(file, (db) => {
          const q = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
          return (
            q(`SELECT COUNT(*) AS n FROM "SmsInbound" WHERE "processedAt" IS NULL`) +
            q(`SELECT COUNT(*) AS n FROM "TelegramUpdate" WHERE "processedAt" IS NULL`) +
            q(`SELECT COUNT(*) AS n FROM "OutboxItem" WHERE "status" IN ('queued','leased')`)
          );
        });
      await waitUntil('every input processed and every reply out', () => pending() === 0, 600_000, 500);
      const doneSeconds = (Date.now() - started) / 1000;

      const facts = readDb(file, (db) => {
        const q = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
        return {
          smsRows: q(`SELECT COUNT(*) AS n FROM "SmsInbound"`),
          smsErrors: q(`SELECT COUNT(*) AS n FROM "SmsInbound" WHERE "error" IS NOT NULL`),
          smsSilent: q(
            `SELECT COUNT(*) AS n FROM "SmsInbound" s
              WHERE NOT EXISTS (SELECT 1 FROM "OutboxItem" o
                                 WHERE o."dedupeKey" LIKE 'sms:' || s."dedupeKey" || ':%')
                AND NOT EXISTS (SELECT 1 FROM "Identity" i
                                 WHERE i."channel" = 'sms' AND i."address" = s."fromAddress"
                                   AND i."optedOut" = 1)`,
          ),
          tgRows: q(`SELECT COUNT(*) AS n FROM "TelegramUpdate"`),
          tgErrors: q(`SELECT COUNT(*) AS n FROM "TelegramUpdate" WHERE "error" IS NOT NULL`),
          tgErrorSample: (
            db.prepare(`SELECT "error" FROM "TelegramUpdate" WHERE "error" IS NOT NULL LIMIT 1`).get() as
              { error: string } | undefined
          )?.error,
          smsErrorSample: (
            db.prepare(`SELECT "error" FROM "SmsInbound" WHERE "error" IS NOT NULL LIMIT 1`).get() as
              { error: string } | undefined
          )?.error,
          tgReplied: new Set(
            (
              db
                .prepare(`SELECT "dedupeKey" AS k FROM "OutboxItem" WHERE "dedupeKey" LIKE 'telegram:%'`)
                .all() as Array<{ k: string }>
            ).map((r) => Number(r.k.split(':')[1])),
          ),
          tgOptedOut: q(
            `SELECT COUNT(*) AS n FROM "Identity" WHERE "channel" = 'telegram' AND "optedOut" = 1`,
          ),
        };
      });
      const outbox = outboxCounts(file);
      const smsSent = counts.sms;
      const tgSilent = tgText.filter((id) => !facts.tgReplied.has(id)).length;

      const fives = [...statuses].filter(([k]) => Number(k.split(' ')[1]) >= 500);
      promises.check(fives.length === 0, `5xx answers: ${JSON.stringify(Object.fromEntries(fives))}`);
      const non200 = [...statuses].filter(([k]) => !k.endsWith(' 200'));
      promises.check(
        non200.length === 0,
        `inputs refused: ${JSON.stringify(Object.fromEntries(non200))}; ${odd.join(' | ')}`,
      );
      promises.check(child.alive(), 'Tasdeed died during the drill');
      promises.check(
        facts.smsRows === smsSent,
        `${facts.smsRows} inbound SMS recorded of ${smsSent} acknowledged`,
      );
      promises.check(
        facts.smsErrors === 0,
        `${facts.smsErrors} inbound SMS failed, e.g. ${facts.smsErrorSample ?? ''}`,
      );
      promises.check(facts.smsSilent === 0, `${facts.smsSilent} inbound SMS got no reply`);
      promises.check(
        facts.tgRows === counts.telegram,
        `${facts.tgRows} Telegram updates recorded of ${counts.telegram} acknowledged`,
      );
      promises.check(
        facts.tgErrors === 0,
        `${facts.tgErrors} Telegram updates failed, e.g. ${facts.tgErrorSample ?? ''}`,
      );
      promises.check(
        tgSilent === 0 || facts.tgOptedOut > 0,
        `${tgSilent} Telegram messages got no reply`,
      );
      promises.check(sandboxSilent === 0, `${sandboxSilent} sandbox messages got no reply`);
      promises.check(!outbox.failed, `${outbox.failed} outbox rows failed`);

      const budget = checkSmsBudget(file, catalogue.catalogue, twilio.messages);
      promises.check(
        budget.overruns.length === 0,
        `SMS over budget: ${describeOverruns(budget.overruns).join(' | ')}`,
      );
      const tgMessages = tg.calls.filter((c) => c.method === 'sendMessage');
      const tooLong = tgMessages.filter((c) => {
        const text = String(c.params.text ?? '');
        return text.length === 0 || text.length > 4_096;
      });
      promises.check(
        tooLong.length === 0,
        `${tooLong.length} Telegram messages empty or over 4,096 characters`,
      );
      const errors = errorLines(child.output());
      promises.check(
        errors.length === 0,
        `${errors.length} errors logged, e.g. ${errors[0]?.slice(0, 400) ?? ''}`,
      );
      const code = await child.stop();
      promises.check(code === 0, `graceful stop after the drill exited ${code}`);
      return {
        numbers:
          `${n(total)} inputs (${n(counts.sms)} SMS, ${n(counts.telegram)} Telegram, ${n(counts.sandbox)} sandbox) ` +
          `sent in ${sendSeconds.toFixed(0)} s, all answered in ${doneSeconds.toFixed(0)} s: ` +
          `${n(budget.sms)} SMS out (${n(budget.parts)} parts, ${budget.overruns.length} over budget), ` +
          `${n(tgMessages.length)} Telegram messages, ${fives.length === 0 ? 'no' : 'some'} 5xx, ` +
          `${facts.smsSilent + tgSilent + sandboxSilent} unanswered`,
        problems: promises.broken,
        logTail: child.output().slice(-20_000),
      };
    } finally {
      await child?.kill();
      await twilio.close();
      await tg.close();
      dir.remove();
    }
  },
};
