/**
 * Bounded concurrency for calls to outside systems: a few at a time, so that one person's
 * request (BILL over every followed account) or the reminders' refresh of due accounts cannot
 * flood a biller and open its circuit breaker for everyone.
 */

/** Maps `items` through `fn` with at most `limit` calls running at once; results in input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
