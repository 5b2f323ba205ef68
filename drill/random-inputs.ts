/**
 * Random inputs through every front (docs/design.md §9: "anything not understood gets a short help
 * reply (one SMS segment), never silence and never an error"). 100,000 texts (5,000 with
 * --quick) from drill/fuzz-text.ts through the two real fronts, half as signed Twilio inbound
 * webhooks and half as Telegram webhook updates (one in ten a button press carrying random
 * data); on top of them a tenth as many (a fifth with --quick) through the sandbox API, which
 * runs the same conversation engine and is the only front that can carry lone surrogates and
 * where STOP is tracked. Tasdeed runs as child processes on the demo catalogue (simulated
 * billers and payment channels, so commands reach bills, payments and receipts); the full run
 * splits the senders between one process per core (at most four), each with its own database
 * (a SQLite file, or a PostgreSQL database when TEST_DATABASE_URL is set) and stand-ins.
 *
 * Promises: no crash (the process lives and stops cleanly), no 5xx and no input refused,
 * nothing logged at error level, every inbound SMS and Telegram update processed without error
 * and answered (unless its sender had opted out), every button press answered, no outbox row
 * failed, every SMS within its segment budget (drill/sms-budget-check.ts), every Telegram
 * message 1–4,096 characters and every button answer at most 200.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadCatalogue } from '../src/config/catalogue.js';
import { Grammar } from '../src/core/conversation/grammar.js';
import { storableText } from '../src/core/text/storable.js';
import { FakeTelegram, callbackUpdate } from '../test/support/fake-telegram.server.js';
import { startFakeTwilio } from '../test/support/fake-twilio.server.js';
import { Fuzzer, seeded, type FuzzOptions } from './fuzz-text.js';
import { drillDatabase, type DrillDatabase } from './database.js';
import { checkSmsBudget, describeOverruns, type BudgetOverrun } from './sms-budget-check.js';
import {
  baseEnv,
  TWILIO_FROM,
  TG_SECRET,
  twilioEnv,
  telegramWebhookEnv,
  Child,
  errorLines,
  mapLimit,
  n,
  outboxCounts,
  Promises,
  tail,
  tempDir,
  waitUntil,
  type Drill,
  type DrillContext,
  type DrillOutcome,
} from './support.js';

const SEED = 20_261_125;
/** Messages per sender: senders write one after another, many senders at once. */
const PER_SENDER = 25;

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

const catalogue = (() => {
  const loaded = loadCatalogue(null);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return loaded.catalogue;
})();

/**
 * Every input, dealt round-robin to senders; the same seed gives the same run. `total` goes
 * through the SMS and Telegram fronts, half each; `sandbox` more through the sandbox.
 */
function makeSenders(
  total: number,
  sandbox: number,
): { senders: Sender[]; counts: Record<Front, number> } {
  const fuzz = new Fuzzer(seeded(SEED));
  const half = Math.round(total / 2);
  const counts: Record<Front, number> = { sms: half, telegram: total - half, sandbox };
  const senders: Sender[] = [];
  for (const front of ['sms', 'telegram', 'sandbox'] as const) {
    const list = Array.from(
      { length: Math.max(8, Math.ceil(counts[front] / PER_SENDER)) },
      (_, i) => {
        const s: Sender = { front, id: '', inputs: [] };
        if (front === 'sms') s.id = `+9639448${String(10_000 + i).padStart(5, '0')}`;
        if (front === 'telegram') {
          s.id = String(900_000 + i);
          s.language = ['ar', 'en', 'fr', ''][i % 4];
        }
        if (front === 'sandbox') {
          s.medium = i % 2 === 0 ? 'sms' : 'telegram';
          // A sandbox sender is any name up to 64 characters.
          s.id =
            i % 5 === 0
              ? `s${i}-${fuzz.text({ ...LIMITS.sandbox, surrogates: false, maxLength: 40 })}`
              : `+9639449${String(10_000 + i).padStart(5, '0')}`;
        }
        return s;
      },
    );
    for (let k = 0; k < counts[front]; k++)
      list[k % list.length]!.inputs.push(fuzz.text(LIMITS[front]));
    senders.push(...list);
  }
  return { senders, counts };
}

interface ShardResult {
  statuses: Map<string, number>;
  refused: string[];
  sandboxSilent: number;
  smsSilent: number;
  tgSilent: number;
  /** Button presses sent, and those with no answerCallbackQuery at the Bot API stand-in. */
  tgPresses: number;
  tgUnansweredPresses: number;
  processingErrors: string[];
  lost: string[];
  failedRows: number;
  overruns: BudgetOverrun[];
  sms: number;
  smsParts: number;
  tgMessages: number;
  tgBadLength: number;
  /** Button answers longer than Telegram's 200 characters. */
  tgLongAnswers: number;
  errorsLogged: string[];
  /** Requests that got no answer (connection reset) and were sent again. */
  resets: number;
  died: boolean;
  exitCode: number | null;
  log: string;
}

/** One Tasdeed process with its own stand-ins, fed by `senders`. */
async function runShard(
  ctx: DrillContext,
  senders: Sender[],
  progress: () => void,
): Promise<ShardResult> {
  const dir = tempDir('random');
  const twilio = await startFakeTwilio();
  const tg = await new FakeTelegram().start();
  let child: Child | null = null;
  let drillDb: DrillDatabase | null = null;
  try {
    const db = await drillDatabase(dir.path);
    drillDb = db;
    const env = await baseEnv(db, {
      TASDEED_SANDBOX: '1',
      ...twilioEnv(twilio, twilio.url),
      SMS_MAX_PER_SECOND: '100000',
      // The drill's senders write far more than a person does; the hourly cap is not tested here.
      SMS_REPLIES_PER_HOUR: '1000000',
      ...telegramWebhookEnv(tg),
    });
    child = await Child.boot(env);
    const url = child.url;
    // A sandbox sender that wrote STOP (docs/design.md §7) is rightly answered no more until START.
    const grammar = new Grammar(catalogue);
    const callbackFuzz = new Fuzzer(seeded(SEED + 1));

    const statuses = new Map<string, number>();
    const refused: string[] = [];
    const answered = (front: Front, status: number, text: string, body: string) => {
      const key = `${front} ${status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (status !== 200 && refused.length < 5) {
        refused.push(
          `${front} ${status} for ${JSON.stringify(text.slice(0, 80))}: ${body.slice(0, 200)}`,
        );
      }
      progress();
    };
    /**
     * A request that got no answer at all (connection reset) is sent again, as the providers
     * do, at most three times; counted apart. The process being gone ends the shard.
     */
    let resets = 0;
    const resilient = async <T>(send: () => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await send();
        } catch (error) {
          if (child && !child.alive()) {
            throw new Error(`Tasdeed died during the drill:\n${tail(child.output(), 40)}`);
          }
          if (attempt >= 3) throw error;
          resets += 1;
          await sleep(500);
        }
      }
    };
    let sandboxSilent = 0;
    let updateId = 1_000_000;
    /** The text updates (update_id, chat) and button presses (callback query ids) sent. */
    const tgText: Array<{ id: number; chat: number }> = [];
    const tgPresses: string[] = [];
    let smsSid = 0;

    const runSms = async (s: Sender) => {
      for (const text of s.inputs) {
        const sid = `SM${createHash('md5').update(`${s.id}:${smsSid++}`).digest('hex')}`;
        const res = await resilient(() =>
          twilio.sendSignedWebhook(`${url}/sms/twilio/inbound`, {
            MessageSid: sid,
            AccountSid: twilio.accountSid,
            From: s.id,
            To: TWILIO_FROM,
            Body: text,
          }),
        );
        answered('sms', res.status, text, res.body);
      }
    };
    const runTelegram = async (s: Sender) => {
      const chat = Number(s.id);
      for (const [i, text] of s.inputs.entries()) {
        const id = updateId++;
        const command = /^\/\S*/.exec(text)?.[0];
        const press =
          i % 10 === 9
            ? callbackUpdate(chat, callbackFuzz.callbackData(), { messageAgeS: 30 })
            : null;
        const update = press
          ? { update_id: id, ...press }
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
                ...(command
                  ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] }
                  : {}),
              },
            };
        if (press) tgPresses.push((press.callback_query as { id: string }).id);
        else tgText.push({ id, chat });
        const res = await resilient(async () => {
          const r = await fetch(`${url}/telegram/webhook`, {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              'X-Telegram-Bot-Api-Secret-Token': TG_SECRET,
            },
            body: JSON.stringify(update),
          });
          return { status: r.status, body: await r.text() };
        });
        answered('telegram', res.status, text, res.body);
      }
    };
    const runSandbox = async (s: Sender) => {
      let stopped = false;
      for (const text of s.inputs) {
        const res = await resilient(async () => {
          const r = await fetch(`${url}/sandbox/messages`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ channel: s.medium, from: s.id, text }),
          });
          return { status: r.status, body: await r.text() };
        });
        const body = res.body;
        if (res.status === 200) {
          const replies = (JSON.parse(body) as { replies: string[] }).replies;
          // Read as Tasdeed reads it: without NUL and lone surrogates.
          const command = grammar.parse(storableText(text)).type;
          if (command === 'stop') stopped = true;
          else if (command === 'start') stopped = false;
          else if (replies.length === 0 && !stopped) sandboxSilent += 1;
        }
        answered('sandbox', res.status, text, body);
      }
    };
    const of = (front: Front) => senders.filter((s) => s.front === front);
    await Promise.all([
      mapLimit(of('sms'), 8, runSms),
      mapLimit(of('telegram'), 8, runTelegram),
      mapLimit(of('sandbox'), 16, runSandbox),
    ]);

    // Everything recorded is processed and every reply is out.
    const backlog = () =>
      db.count(
        `SELECT (SELECT COUNT(*) FROM "SmsInbound" WHERE "processedAt" IS NULL)
              + (SELECT COUNT(*) FROM "TelegramUpdate" WHERE "processedAt" IS NULL)
              + (SELECT COUNT(*) FROM "OutboxItem" WHERE "status" IN ('queued','leased')) AS n`,
      );
    await waitUntil(
      'every input processed and every reply out',
      async () => (await backlog()) === 0,
      600_000,
      500,
    );
    ctx.note(`a shard finished its ${senders.reduce((a, s) => a + s.inputs.length, 0)} inputs`);

    const smsSent = of('sms').reduce((a, s) => a + s.inputs.length, 0);
    const tgSent = of('telegram').reduce((a, s) => a + s.inputs.length, 0);
    const processingErrors: string[] = [];
    const lost: string[] = [];
    const smsRows = await db.count(`SELECT COUNT(*) AS n FROM "SmsInbound"`);
    if (smsRows !== smsSent)
      lost.push(`${smsRows} inbound SMS recorded of ${smsSent} acknowledged`);
    const tgRows = await db.count(`SELECT COUNT(*) AS n FROM "TelegramUpdate"`);
    if (tgRows !== tgSent)
      lost.push(`${tgRows} Telegram updates recorded of ${tgSent} acknowledged`);
    for (const table of ['SmsInbound', 'TelegramUpdate']) {
      for (const row of await db.rows<{ error: string }>(
        `SELECT "error" FROM "${table}" WHERE "error" IS NOT NULL LIMIT 3`,
      )) {
        processingErrors.push(`${table}: ${row.error.slice(0, 200)}`);
      }
    }
    // Silence: an inbound SMS with no reply row, its sender not opted out.
    const smsSilent = await db.count(
      `SELECT COUNT(*) AS n FROM "SmsInbound" s
        WHERE NOT EXISTS (SELECT 1 FROM "OutboxItem" o WHERE o."dedupeKey" LIKE 'sms:' || s."dedupeKey" || ':%')
          AND NOT EXISTS (SELECT 1 FROM "Identity" i WHERE i."channel" = 'sms'
                           AND i."address" = s."fromAddress" AND i."optedOut")`,
    );
    const replied = new Set(
      (
        await db.rows<{ k: string }>(
          `SELECT "dedupeKey" AS k FROM "OutboxItem" WHERE "dedupeKey" LIKE 'telegram:%'`,
        )
      ).map((r) => Number(r.k.split(':')[1])),
    );
    const optedOutChats = new Set(
      (
        await db.rows<{ a: string }>(
          `SELECT "address" AS a FROM "Identity" WHERE "channel" = 'telegram' AND "optedOut"`,
        )
      ).map((r) => Number(r.a)),
    );
    // Silence: a text update with no reply row, its chat not opted out.
    const tgSilent = tgText.filter((u) => !replied.has(u.id) && !optedOutChats.has(u.chat)).length;
    const answers = tg.calls.filter((c) => c.method === 'answerCallbackQuery');
    const answeredPresses = new Set(answers.map((c) => String(c.params.callback_query_id)));
    const tgUnansweredPresses = tgPresses.filter((id) => !answeredPresses.has(id)).length;
    const tgLongAnswers = answers.filter(
      (c) => typeof c.params.text === 'string' && c.params.text.length > 200,
    ).length;
    const budget = await checkSmsBudget(db, catalogue, twilio.messages);
    const tgMessages = tg.calls.filter((c) => c.method === 'sendMessage');
    const tgBadLength = tgMessages.filter((c) => {
      const length = typeof c.params.text === 'string' ? c.params.text.length : 0;
      return length === 0 || length > 4_096;
    }).length;
    const died = !child.alive();
    const failedRows = (await outboxCounts(db)).failed ?? 0;
    const exitCode = await child.stop();
    const log = child.output();
    return {
      statuses,
      refused,
      sandboxSilent,
      smsSilent,
      tgSilent,
      tgPresses: tgPresses.length,
      tgUnansweredPresses,
      processingErrors,
      lost,
      failedRows,
      overruns: budget.overruns,
      sms: budget.sms,
      smsParts: budget.parts,
      tgMessages: tgMessages.length,
      tgBadLength,
      tgLongAnswers,
      errorsLogged: errorLines(log),
      resets,
      died,
      exitCode,
      log,
    };
  } finally {
    await child?.kill();
    await twilio.close();
    await tg.close();
    await drillDb?.remove();
    dir.remove();
  }
}

export const randomInputs: Drill = {
  name: 'random-inputs',
  what: '100,000 hostile texts via SMS and Telegram (+ sandbox): no crash, no 5xx, within budget',
  async run(ctx): Promise<DrillOutcome> {
    const total = ctx.quick ? 5_000 : 100_000;
    const sandbox = ctx.quick ? 1_000 : 10_000;
    const shards = ctx.quick ? 1 : Math.max(1, Math.min(4, availableParallelism()));
    const { senders, counts } = makeSenders(total, sandbox);
    ctx.note(
      `${n(total)} inputs through the fronts and ${n(sandbox)} through the sandbox for ` +
        `${senders.length} senders, ${shards} processes`,
    );
    let sent = 0;
    const progress = () => {
      sent += 1;
      if (sent % Math.round((total + sandbox) / 10) === 0) ctx.note(`${n(sent)} sent`);
    };
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: shards }, (_, k) =>
        runShard(
          ctx,
          senders.filter((_, i) => i % shards === k),
          progress,
        ),
      ),
    );
    const seconds = (Date.now() - started) / 1000;

    const promises = new Promises();
    const sum = (f: (r: ShardResult) => number) => results.reduce((a, r) => a + f(r), 0);
    const statuses = new Map<string, number>();
    for (const r of results)
      for (const [k, v] of r.statuses) statuses.set(k, (statuses.get(k) ?? 0) + v);
    const fives = [...statuses].filter(([k]) => Number(k.split(' ')[1]) >= 500);
    promises.check(fives.length === 0, `5xx answers: ${JSON.stringify(Object.fromEntries(fives))}`);
    const refused = [...statuses].filter(([k]) => !k.endsWith(' 200'));
    promises.check(
      refused.length === 0,
      `inputs refused: ${JSON.stringify(Object.fromEntries(refused))}; ${results
        .flatMap((r) => r.refused)
        .slice(0, 5)
        .join(' | ')}`,
    );
    promises.check(!results.some((r) => r.died), 'Tasdeed died during the drill');
    const exits = results.map((r) => r.exitCode).filter((c) => c !== 0);
    promises.check(exits.length === 0, `graceful stop exited ${exits.join(', ')}`);
    const lost = results.flatMap((r) => r.lost);
    promises.check(lost.length === 0, lost.join('; '));
    const processing = results.flatMap((r) => r.processingErrors);
    promises.check(
      processing.length === 0,
      `inputs failed in processing: ${processing.slice(0, 3).join(' | ')}`,
    );
    const silent = {
      sms: sum((r) => r.smsSilent),
      telegram: sum((r) => r.tgSilent),
      sandbox: sum((r) => r.sandboxSilent),
    };
    promises.check(
      silent.sms + silent.telegram + silent.sandbox === 0,
      `inputs with no reply: ${JSON.stringify(silent)}`,
    );
    const failedRows = sum((r) => r.failedRows);
    promises.check(failedRows === 0, `${failedRows} outbox rows failed`);
    const overruns = results.flatMap((r) => r.overruns);
    promises.check(
      overruns.length === 0,
      `SMS over budget: ${describeOverruns(overruns).join(' | ')}`,
    );
    const badLength = sum((r) => r.tgBadLength);
    promises.check(
      badLength === 0,
      `${badLength} Telegram messages empty or over 4,096 characters`,
    );
    const unansweredPresses = sum((r) => r.tgUnansweredPresses);
    promises.check(unansweredPresses === 0, `${unansweredPresses} button presses never answered`);
    const longAnswers = sum((r) => r.tgLongAnswers);
    promises.check(longAnswers === 0, `${longAnswers} button answers over 200 characters`);
    const logged = results.flatMap((r) => r.errorsLogged);
    promises.check(
      logged.length === 0,
      `${logged.length} errors logged, e.g. ${logged[0]?.slice(0, 400) ?? ''}`,
    );

    const over = overruns.length;
    return {
      numbers:
        `${n(total)} inputs (${n(counts.sms)} SMS, ${n(counts.telegram)} Telegram) + ${n(counts.sandbox)} sandbox (` +
        `${shards} process${shards > 1 ? 'es' : ''}) answered in ${seconds.toFixed(0)} s: ` +
        `${n(sum((r) => r.sms))} SMS out in ${n(sum((r) => r.smsParts))} parts, ${over} over budget; ` +
        `${n(sum((r) => r.tgMessages))} Telegram messages, ` +
        `${n(sum((r) => r.tgPresses) - unansweredPresses)} of ${n(sum((r) => r.tgPresses))} button presses answered; ${fives.length === 0 ? 'no' : 'some'} 5xx, ` +
        `${sum((r) => r.resets)} connection resets retried, ` +
        `${silent.sms + silent.telegram + silent.sandbox} unanswered, ${processing.length} failed`,
      problems: promises.broken,
      logTail: results.map((r) => r.log.slice(-10_000)).join('\n'),
    };
  },
};
