/**
 * Telegram groups told, once, that the bot serves private chats only (TelegramGroupNotice):
 * the chat id is the key, so the first claim wins whichever instance makes it, and a restart
 * finds the row.
 *
 * Every later message of the group claims again, so a claim that loses must be cheap: one
 * INSERT … ON CONFLICT DO NOTHING, which answers by its row count. (An INSERT refused by the key
 * would be an ERROR in PostgreSQL's server log and a rolled-back transaction per message.)
 */
import type { Prisma } from '../generated/prisma/client.js';
import type { SqlDialect } from './dialect.js';

/** True for the first claim of the chat, false ever after. */
export async function claimGroupNotice(
  db: Prisma.TransactionClient,
  d: SqlDialect,
  chatId: string,
  at: Date,
): Promise<boolean> {
  const inserted = await db.$executeRawUnsafe(
    d.sql(`INSERT INTO "TelegramGroupNotice" ("chatId", "notifiedAt") VALUES (?, ${d.timeParam})
           ON CONFLICT ("chatId") DO NOTHING`),
    chatId,
    d.time(at),
  );
  return inserted === 1;
}
