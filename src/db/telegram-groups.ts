/**
 * Telegram groups told, once, that the bot serves private chats only (TelegramGroupNotice):
 * the chat id is the key, so the first claim wins whichever instance makes it, and a restart
 * finds the row.
 */
import { Prisma } from '../generated/prisma/client.js';

/** True for the first claim of the chat, false ever after. */
export async function claimGroupNotice(
  db: Prisma.TransactionClient,
  chatId: string,
  at: Date,
): Promise<boolean> {
  try {
    await db.telegramGroupNotice.create({
      data: { chatId, notifiedAt: at },
      select: { chatId: true },
    });
    return true;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')
      return false;
    throw error;
  }
}
