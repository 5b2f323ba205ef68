/**
 * SIGKILL in the middle of a Telegram broadcast, then a restart on the same database: every
 * recipient gets the message, and the only repeats are messages that were in flight when the
 * process died — at most the bulk pool's in-flight limit (docs/design.md §7: "a crash mid-way resumes
 * without sending anyone the message twice"; the dispatcher's lease bound). Counted at the
 * local Bot API stand-in.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DateTime } from 'luxon';
import { DEFAULT_POOLS } from '../src/core/outbox/dispatcher.js';
import { FakeTelegram } from '../test/support/fake-telegram.server.js';
import { drillDatabase, type DrillDatabase } from './database.js';
import {
  admin,
  baseEnv,
  Child,
  n,
  Promises,
  telegramWebhookEnv,
  tempDir,
  type Drill,
  type DrillOutcome,
} from './support.js';

const FIRST_CHAT = 800_000;
const TEXT = 'انقطاع مبرمج للكهرباء يوم الخميس من 9 إلى 14. نعتذر عن الإزعاج.';

/** Telegram subscribers who wrote once, written set-based (one statement per table). */
async function seedTelegramSubscribers(db: DrillDatabase, count: number): Promise<void> {
  const { client, close } = db.connect();
  try {
    const ids = Array.from({ length: count }, (_, i) => ({
      chat: String(FIRST_CHAT + i),
      subscriberId: randomUUID(),
    }));
    for (let i = 0; i < ids.length; i += 5_000) {
      const slice = ids.slice(i, i + 5_000);
      await client.subscriber.createMany({
        data: slice.map((x) => ({ id: x.subscriberId, language: 'ar' })),
      });
      await client.identity.createMany({
        data: slice.map((x) => ({
          id: randomUUID(),
          subscriberId: x.subscriberId,
          channel: 'telegram',
          address: x.chat,
        })),
      });
    }
  } finally {
    await close();
  }
}

export const broadcastCrash: Drill = {
  name: 'broadcast-crash',
  what: 'SIGKILL mid-broadcast, restart: everyone gets it once, repeats ≤ bulk in-flight',
  async run(ctx): Promise<DrillOutcome> {
    const recipients = ctx.quick ? 2_000 : 5_000;
    const limit = DEFAULT_POOLS.find((p) => p.name === 'bulk')?.inFlight ?? 16;
    const promises = new Promises();
    const dir = tempDir('broadcast');
    const tg = await new FakeTelegram().start();
    let first: Child | null = null;
    let second: Child | null = null;
    let db: DrillDatabase | null = null;
    try {
      db = await drillDatabase(dir.path);
      await seedTelegramSubscribers(db, recipients);
      ctx.note(`${recipients} Telegram subscribers written`);
      // Quiet hours well away from now, so that the run does not depend on the time of day.
      const hour = DateTime.now().setZone('Asia/Damascus').hour;
      const env = await baseEnv(db, {
        TASDEED_QUIET_HOURS: `${(hour + 6) % 24}-${(hour + 7) % 24}`,
        ...telegramWebhookEnv(tg),
        TELEGRAM_BULK_PER_SECOND: '500',
      });

      /** Deliveries of the broadcast at the stand-in, per chat. */
      const deliveries = (): Map<string, number> => {
        const perChat = new Map<string, number>();
        for (const c of tg.calls) {
          if (c.method !== 'sendMessage' || c.params.__ok !== true || c.params.text !== TEXT)
            continue;
          const chat = String(c.params.chat_id);
          perChat.set(chat, (perChat.get(chat) ?? 0) + 1);
        }
        return perChat;
      };
      const total = () => [...deliveries().values()].reduce((a, b) => a + b, 0);

      first = await Child.boot(env);
      const created = await admin(first.url, 'POST', '/admin/broadcasts', {
        text: { ar: TEXT },
        audience: { all: true },
      });
      if (created.status !== 201)
        throw new Error(
          `POST /admin/broadcasts → ${created.status} ${JSON.stringify(created.body)}`,
        );
      promises.check(
        created.body.recipients === recipients,
        `the broadcast counted ${String(created.body.recipients)} recipients, not ${recipients}`,
      );
      const id = String(created.body.id);

      for (const end = Date.now() + 300_000; total() < recipients / 2; await sleep(5)) {
        if (Date.now() > end) throw new Error(`only ${total()} delivered after 300 s`);
      }
      await first.kill();
      const beforeKill = total();
      ctx.note(`killed with ${beforeKill} of ${recipients} delivered`);
      promises.check(beforeKill < recipients, 'killed after the end, not in the middle');

      second = await Child.boot(env);
      let done: Record<string, unknown> | null = null;
      for (const end = Date.now() + 300_000; !done;) {
        const p = await admin(second.url, 'GET', `/admin/broadcasts/${id}`);
        if (p.body.status === 'done') done = p.body;
        else if (Date.now() > end)
          throw new Error(`not done after 300 s: ${JSON.stringify(p.body)}`);
        else await sleep(250);
      }
      const counts = done.counts as Record<string, number>;
      promises.check(
        counts.sent === recipients && counts.failed === 0 && counts.queued === 0,
        `the broadcast's counts say ${JSON.stringify(counts)}`,
      );

      const perChat = deliveries();
      let missing = 0;
      for (let i = 0; i < recipients; i++) if (!perChat.has(String(FIRST_CHAT + i))) missing++;
      const duplicates = total() - perChat.size;
      const most = Math.max(0, ...perChat.values());
      promises.check(missing === 0, `${missing} of ${recipients} chats never got the broadcast`);
      promises.check(perChat.size === recipients - missing, 'a chat outside the audience got it');
      promises.check(
        duplicates <= limit,
        `${duplicates} repeats, more than the ${limit} that can be in flight`,
      );
      promises.check(most <= 2, `a chat got the broadcast ${most} times`);
      const code = await second.stop();
      promises.check(code === 0, `graceful stop after the drill exited ${code}`);
      return {
        numbers:
          `${n(recipients)} recipients, killed at ${n(beforeKill)} delivered, ` +
          `${n(recipients - missing)} reached after restart, ${duplicates} repeats (limit ${limit})`,
        problems: promises.broken,
        logTail: (first.output() + (second?.output() ?? '')).slice(-20_000),
      };
    } finally {
      await first?.kill();
      await second?.kill();
      await tg.close();
      await db?.remove();
      dir.remove();
    }
  },
};
