/**
 * The staff guard: Telegram user ids from TELEGRAM_STAFF_IDS. Staff features sit behind it;
 * for everyone else their commands and buttons fall through to "unhandled" and get the answer
 * any unknown command gets, so nobody learns what exists. /broadcast will reuse it.
 */
import type { Context } from 'grammy';

export function isStaff(staffIds: readonly number[]): (ctx: Context) => boolean {
  const ids = new Set(staffIds);
  return (ctx) => ctx.from !== undefined && ids.has(ctx.from.id);
}
