/**
 * Wall-clock time in the service's zone (`TASDEED_TIMEZONE`): quiet hours and the reminder
 * send hour are local hours, due dates are local dates. Zone arithmetic is luxon's (daylight
 * saving and zone rules are a solved problem; Syria changed its rules in 2022).
 */
import { DateTime } from 'luxon';

/**
 * A daily window in which no bulk message goes out, in whole local hours: hour `h` is quiet
 * when `start <= h < end`, or, when the window wraps midnight (`start > end`), when
 * `h >= start || h < end`.
 */
export interface QuietWindow {
  start: number;
  end: number;
}

function local(at: Date, zone: string): DateTime {
  return DateTime.fromJSDate(at, { zone });
}

export function isQuietHour(hour: number, quiet: QuietWindow): boolean {
  if (quiet.start === quiet.end) return false;
  return quiet.start < quiet.end
    ? hour >= quiet.start && hour < quiet.end
    : hour >= quiet.start || hour < quiet.end;
}

/** When the quiet window that contains `at` ends, or null when `at` is not in quiet hours. */
export function quietUntil(at: Date, quiet: QuietWindow, zone: string): Date | null {
  const now = local(at, zone);
  if (!isQuietHour(now.hour, quiet)) return null;
  let end = now.startOf('day').set({ hour: quiet.end });
  if (end <= now) end = end.plus({ days: 1 }).set({ hour: quiet.end });
  return end.toJSDate();
}

/** The local calendar date of `at` as YYYY-MM-DD. */
export function localDate(at: Date, zone: string): string {
  return local(at, zone).toISODate() ?? '';
}

/** YYYY-MM-DD plus `days` (negative to go back). */
export function addDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate() ?? '';
}

/** Whole days from `from` to `to` (both YYYY-MM-DD); positive when `to` is later. */
export function daysBetween(from: string, to: string): number {
  return Math.round(
    DateTime.fromISO(to, { zone: 'UTC' }).diff(DateTime.fromISO(from, { zone: 'UTC' }), 'days')
      .days,
  );
}

/**
 * The latest instant at or before `at` that is `hour`:00 local time, and its local date: the
 * send time of the reminders that are due now.
 */
export function latestLocalHour(at: Date, hour: number, zone: string): { date: string; at: Date } {
  const now = local(at, zone);
  let slot = now.startOf('day').set({ hour });
  if (slot > now) slot = slot.minus({ days: 1 }).set({ hour });
  return { date: slot.toISODate() ?? '', at: slot.toJSDate() };
}

/** A local date and hour as an instant (the first one, should daylight saving repeat it). */
export function localInstant(date: string, hour: number, zone: string): Date {
  return DateTime.fromISO(date, { zone }).set({ hour }).toJSDate();
}

/** The local date and hour of `at` as YYYY-MM-DDTHH (the slot of an hourly job). */
export function localHourKey(at: Date, zone: string): string {
  return local(at, zone).toFormat("yyyy-LL-dd'T'HH");
}

/** The local time of day of `at` as HH:mm, in ASCII digits (what a reply shows). */
export function localTimeOfDay(at: Date, zone: string): string {
  return local(at, zone).setLocale('en').toFormat('HH:mm');
}
