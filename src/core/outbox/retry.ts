/** Backoff for temporary failures (docs/design.md §8): 5 s, 30 s, 5 min, 30 min. */
export const RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 300_000, 1_800_000];

/**
 * When to try again after `attempts` tries, or null when a message should give up.
 * Work that must eventually happen (a settlement) passes `forever` and retries every 30 min.
 */
export function nextRetryAt(now: Date, attempts: number, forever = false): Date | null {
  const delay = RETRY_DELAYS_MS[attempts - 1];
  if (delay !== undefined) return new Date(now.getTime() + delay);
  if (!forever) return null;
  return new Date(now.getTime() + (RETRY_DELAYS_MS[RETRY_DELAYS_MS.length - 1] ?? 1_800_000));
}
