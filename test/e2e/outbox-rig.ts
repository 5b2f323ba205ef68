/** Shared pieces of the outbox dispatch tests (test/e2e/outbox-*.test.ts). */

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * Environment that puts quiet hours well away from `now` (an hour, six hours on, in UTC), so
 * that bulk traffic flows whenever the tests run.
 */
export function awayFromQuietHours(now: Date): Record<string, string> {
  const h = now.getUTCHours();
  return {
    TASDEED_TIMEZONE: 'UTC',
    TASDEED_QUIET_HOURS: `${(h + 6) % 24}-${(h + 7) % 24}`,
  };
}

/**
 * The most weight (1 each, unless `weights` says otherwise) that falls in any half-open window
 * [t, t + windowMs) of the given instants.
 */
export function maxInWindow(times: number[], windowMs: number, weights?: number[]): number {
  const points = times.map((t, i) => ({ t, w: weights?.[i] ?? 1 })).sort((a, b) => a.t - b.t);
  let worst = 0;
  for (let i = 0; i < points.length; i++) {
    let sum = 0;
    for (let j = i; j < points.length && points[j]!.t < points[i]!.t + windowMs; j++)
      sum += points[j]!.w;
    worst = Math.max(worst, sum);
  }
  return worst;
}

/** The shortest gap between two consecutive instants (Infinity for fewer than two). */
export function minGap(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < sorted.length; i++) gap = Math.min(gap, sorted[i]! - sorted[i - 1]!);
  return gap;
}
