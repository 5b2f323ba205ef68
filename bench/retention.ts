/**
 * What one SMS exchange leaves in the database, and what is left once TASDEED_RETENTION_DAYS
 * has passed and the retention job has run: rows and bytes per message, table by table.
 *
 *   npx tsx bench/retention.ts [messages=2000] [senders=200]
 *   TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx bench/retention.ts
 *
 * Each message goes the whole production way through the SMS front of the test rig (a signed
 * Twilio webhook, the inbound row, the conversation, the reply's outbox row, the fake Twilio
 * REST API) and gets Twilio's two delivery receipts (sent, delivered). Then the retention job
 * runs with its clock a retention and a day later, and the tables are measured again.
 * Bytes: SQLite's dbstat (pages of each table and of its indexes), PostgreSQL's
 * pg_total_relation_size (table, indexes and TOAST) after VACUUM FULL, i.e. what the rows
 * occupy once compacted; in production plain (auto)vacuum makes the space reusable instead.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { RetentionService } from '../src/core/retention/retention.service.js';
import type { PrunedKind } from '../src/core/ports/retention.port.js';
import { PrismaStore } from '../src/db/prisma-store.js';
import { candidatesSql, RetentionStore } from '../src/db/retention-store.js';
import { startSms, twilioInbound, type SmsRig } from '../test/sms-front/rig.js';
import { waitFor } from '../test/support/wait.js';

const total = Number(process.argv[2] ?? 2_000);
const senders = Number(process.argv[3] ?? 200);
const RETENTION_DAYS = 180;
/** Distinct texts in turn: no sender ever repeats itself (no auto-responder loop). */
const TEXTS = ['فاتورة كهرباء 1000101', 'HELP', 'BILL water 2000301', 'حساباتي', 'ACCOUNTS'];
const TABLES = [
  'SmsInbound',
  'OutboxItem',
  'SmsPart',
  'SmsStatusEvent',
  'TelegramUpdate',
  'Identity',
  'Subscriber',
] as const;

type Figures = Record<string, { rows: number; bytes: number }>;

async function measure(rig: SmsRig): Promise<Figures> {
  const figures: Figures = {};
  const file = rig.t.dbFile;
  if (file) {
    const db = new Database(file, { readonly: true });
    try {
      const bytes = new Map<string, number>();
      const owners = new Map(
        (
          db
            .prepare(`SELECT name, tbl_name FROM sqlite_schema WHERE tbl_name IS NOT NULL`)
            .all() as Array<{ name: string; tbl_name: string }>
        ).map((r) => [r.name, r.tbl_name]),
      );
      for (const r of db
        .prepare(`SELECT name, SUM(pgsize) AS b FROM dbstat GROUP BY name`)
        .all() as Array<{
        name: string;
        b: number;
      }>) {
        const table = owners.get(r.name) ?? r.name;
        bytes.set(table, (bytes.get(table) ?? 0) + r.b);
      }
      for (const t of TABLES) {
        const { n } = db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number };
        figures[t] = { rows: n, bytes: bytes.get(t) ?? 0 };
      }
    } finally {
      db.close();
    }
    return figures;
  }
  const client = new pg.Client({ connectionString: rig.t.databaseUrl });
  await client.connect();
  try {
    for (const t of TABLES) await client.query(`VACUUM FULL "${t}"`);
    for (const t of TABLES) {
      const { rows } = await client.query<{ n: string; b: string }>(
        `SELECT (SELECT COUNT(*) FROM "${t}") AS n, pg_total_relation_size('"${t}"') AS b`,
      );
      figures[t] = { rows: Number(rows[0]!.n), bytes: Number(rows[0]!.b) };
    }
  } finally {
    await client.end();
  }
  return figures;
}

function prismaStore(rig: SmsRig): PrismaStore {
  const store = rig.t.tasdeed.store;
  if (!(store instanceof PrismaStore)) throw new Error('not a PrismaStore');
  return store;
}

/**
 * The plan of an outbox batch as the daily job meets it: a small part of the rows old enough
 * (here those finished in the run's first second).
 */
async function outboxPlan(rig: SmsRig): Promise<string> {
  const store = prismaStore(rig);
  const d = store.dialect;
  const sql = candidatesSql(d, 'outbox');
  const oldest = await store.read((db) =>
    db.outboxItem.findFirst({ where: { doneAt: { not: null } }, orderBy: { doneAt: 'asc' } }),
  );
  const params = [d.time(new Date((oldest?.doneAt?.getTime() ?? 0) + 1_000)), 1_000];
  if (d.name === 'sqlite') {
    const plan = await store.read((db) =>
      db.$queryRawUnsafe<Array<{ detail: string }>>(`EXPLAIN QUERY PLAN ${sql}`, ...params),
    );
    return plan.map((p) => p.detail).join(' | ');
  }
  await store.read((db) => db.$executeRawUnsafe(`ANALYZE "OutboxItem"`));
  const plan = await store.read((db) =>
    db.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(`EXPLAIN ${sql}`, ...params),
  );
  return plan.map((p) => p['QUERY PLAN']).join('\n');
}

function table(title: string, figures: Figures, base: Figures | null): void {
  console.log(`\n${title}`);
  console.log('table            rows  rows/msg     bytes  bytes/msg');
  let rows = 0;
  let bytes = 0;
  for (const t of TABLES) {
    const f = figures[t]!;
    const r = base ? f.rows - base[t]!.rows : f.rows;
    const b = base ? f.bytes - base[t]!.bytes : f.bytes;
    rows += f.rows;
    bytes += f.bytes;
    console.log(
      `${t.padEnd(15)}${String(f.rows).padStart(6)}${(r / total).toFixed(2).padStart(10)}${String(f.bytes).padStart(10)}${Math.round(
        b / total,
      )
        .toString()
        .padStart(11)}`,
    );
  }
  console.log(
    `${'all'.padEnd(15)}${String(rows).padStart(6)}${''.padStart(10)}${String(bytes).padStart(10)}`,
  );
}

async function main(): Promise<void> {
  const rig = await startSms({ LOG_LEVEL: 'silent', SMS_MAX_PER_SECOND: '1000' });
  try {
    const empty = await measure(rig);
    const started = performance.now();
    let next = 0;
    const lanes = Array.from({ length: Math.min(senders, 16) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const from = `+9639440${String(i % senders).padStart(5, '0')}`;
        const text = TEXTS[Math.floor(i / senders) % TEXTS.length]!;
        const res = await twilioInbound(rig, from, text);
        if (res.status !== 200) throw new Error(`inbound ${i}: ${res.status}`);
      }
    });
    await Promise.all(lanes);
    await waitFor('every reply sent', () => rig.twilio.messages.length >= total, 1_800_000);
    // Twilio reports each message sent, then delivered.
    for (const m of rig.twilio.messages) {
      for (const MessageStatus of ['sent', 'delivered']) {
        const res = await rig.twilio.sendSignedWebhook(`${rig.t.url}/sms/twilio/status`, {
          MessageSid: m.sid,
          MessageStatus,
          AccountSid: rig.twilio.accountSid,
        });
        if (res.status !== 200) throw new Error(`receipt: ${res.status}`);
      }
    }
    await rig.t.tasdeed.sms!.inbox.drain();
    await rig.t.tasdeed.dispatcher.drain();
    console.error(`# ${total} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const full = await measure(rig);
    console.log(
      `${rig.t.dbFile ? 'SQLite' : 'PostgreSQL'}: ${total} messages from ${senders} senders`,
    );
    table('after the messages (per message: what they added)', full, empty);
    console.log(`\nplan of an outbox batch:\n${await outboxPlan(rig)}`);

    // The job a retention and a day later: everything from the run is old enough.
    const later = { now: () => new Date(Date.now() + (RETENTION_DAYS + 1) * 86_400_000) };
    const rows = new RetentionStore(prismaStore(rig));
    let longest = 0;
    const timed = {
      foldBroadcasts: (before: Date) => rows.foldBroadcasts(before),
      async pruneBatch(kind: PrunedKind, before: Date, maxRows: number) {
        const t0 = performance.now();
        const batch = await rows.pruneBatch(kind, before, maxRows);
        longest = Math.max(longest, performance.now() - t0);
        return batch;
      },
    };
    const job = new RetentionService(rig.t.tasdeed.store, timed, later, {
      days: RETENTION_DAYS,
      timezone: 'Asia/Damascus',
      owner: 'bench',
    });
    const t0 = performance.now();
    const result = await job.tick();
    const ms = performance.now() - t0;
    const pruned = await measure(rig);
    table('after the retention job (per message: what is left of them)', pruned, empty);
    console.log(
      `\nretention run: ${JSON.stringify(result)}\n${ms.toFixed(0)} ms in all, longest batch ${longest.toFixed(1)} ms`,
    );
  } finally {
    await rig.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
