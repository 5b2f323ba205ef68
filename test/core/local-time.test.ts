/**
 * Local wall-clock helpers (src/core/schedule/local-time.ts): quiet windows, the latest send
 * time, local dates and hour keys, in a zone without daylight saving (Asia/Damascus, UTC+3
 * all year since 2022) and one with it (Europe/Berlin: 2026-03-29 02:00 → 03:00, 2026-10-25
 * 03:00 → 02:00).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addDays,
  daysBetween,
  isQuietHour,
  latestLocalHour,
  localDate,
  localHourKey,
  localInstant,
  quietUntil,
} from '../../src/core/schedule/local-time.js';

const DAMASCUS = 'Asia/Damascus';
const BERLIN = 'Europe/Berlin';
const utc = (iso: string) => new Date(iso);

describe('quiet hours', () => {
  it('a window within one day holds [start, end)', () => {
    const w = { start: 13, end: 15 };
    assert.deepEqual(
      Array.from({ length: 24 }, (_, h) => h).filter((h) => isQuietHour(h, w)),
      [13, 14],
    );
  });

  it('a window that wraps midnight holds the evening and the early morning', () => {
    const w = { start: 21, end: 8 };
    assert.deepEqual(
      Array.from({ length: 24 }, (_, h) => h).filter((h) => isQuietHour(h, w)),
      [0, 1, 2, 3, 4, 5, 6, 7, 21, 22, 23],
    );
  });

  it('an empty window (start = end) is never quiet', () => {
    for (let h = 0; h < 24; h++) assert.equal(isQuietHour(h, { start: 5, end: 5 }), false);
  });

  it('quietUntil gives the end of the window, the next morning when it wraps midnight', () => {
    const w = { start: 21, end: 8 };
    // 22:30 in Damascus (19:30 UTC) → 08:00 the next day (05:00 UTC).
    assert.deepEqual(
      quietUntil(utc('2026-11-25T19:30:00Z'), w, DAMASCUS),
      utc('2026-11-26T05:00:00Z'),
    );
    // 03:00 in Damascus, after midnight → 08:00 the same day.
    assert.deepEqual(
      quietUntil(utc('2026-11-26T00:00:00Z'), w, DAMASCUS),
      utc('2026-11-26T05:00:00Z'),
    );
    // 21:00 sharp is quiet; 20:59 and 08:00 are not.
    assert.deepEqual(
      quietUntil(utc('2026-11-25T18:00:00Z'), w, DAMASCUS),
      utc('2026-11-26T05:00:00Z'),
    );
    assert.equal(quietUntil(utc('2026-11-25T17:59:59Z'), w, DAMASCUS), null);
    assert.equal(quietUntil(utc('2026-11-26T05:00:00Z'), w, DAMASCUS), null);
  });

  it('quietUntil in a window within the day ends that day', () => {
    assert.deepEqual(
      quietUntil(utc('2026-11-25T11:10:00Z'), { start: 14, end: 15 }, DAMASCUS),
      utc('2026-11-25T12:00:00Z'),
    );
  });

  it('quietUntil counts local hours across a daylight-saving change', () => {
    // Berlin, the night the clocks go forward: 22:00 CET (21:00 UTC) → 08:00 CEST (06:00 UTC).
    assert.deepEqual(
      quietUntil(utc('2026-03-28T21:00:00Z'), { start: 21, end: 8 }, BERLIN),
      utc('2026-03-29T06:00:00Z'),
    );
    // The night they go back: 22:00 CEST (20:00 UTC) → 08:00 CET (07:00 UTC).
    assert.deepEqual(
      quietUntil(utc('2026-10-24T20:00:00Z'), { start: 21, end: 8 }, BERLIN),
      utc('2026-10-25T07:00:00Z'),
    );
    // A window ending at 02:00 on the night 02:00 does not exist ends at 03:00 CEST.
    assert.deepEqual(
      quietUntil(utc('2026-03-28T23:30:00Z'), { start: 23, end: 2 }, BERLIN),
      utc('2026-03-29T01:00:00Z'),
    );
  });
});

describe('latestLocalHour', () => {
  it("is yesterday's send time before today's, today's from it on (Damascus is UTC+3)", () => {
    // 09:59:59 local → yesterday 10:00.
    assert.deepEqual(latestLocalHour(utc('2026-11-25T06:59:59Z'), 10, DAMASCUS), {
      date: '2026-11-24',
      at: utc('2026-11-24T07:00:00Z'),
    });
    // 10:00:00 local → today 10:00.
    assert.deepEqual(latestLocalHour(utc('2026-11-25T07:00:00Z'), 10, DAMASCUS), {
      date: '2026-11-25',
      at: utc('2026-11-25T07:00:00Z'),
    });
    // Summer: still UTC+3 (no daylight saving since 2022).
    assert.deepEqual(latestLocalHour(utc('2026-07-01T07:00:00Z'), 10, DAMASCUS), {
      date: '2026-07-01',
      at: utc('2026-07-01T07:00:00Z'),
    });
  });

  it('takes the local date, not the UTC one, across midnight', () => {
    // 23:30 UTC on the 25th is 02:30 on the 26th in Damascus: an 01:00 send time is today's.
    assert.deepEqual(latestLocalHour(utc('2026-11-25T23:30:00Z'), 1, DAMASCUS), {
      date: '2026-11-26',
      at: utc('2026-11-25T22:00:00Z'),
    });
    // 00:30 local with a 23:00 send time: yesterday's 23:00, half an hour ago.
    assert.deepEqual(latestLocalHour(utc('2026-11-25T21:30:00Z'), 23, DAMASCUS), {
      date: '2026-11-25',
      at: utc('2026-11-25T20:00:00Z'),
    });
  });

  it('follows daylight saving in Berlin', () => {
    // 10:00 CET in winter is 09:00 UTC, 10:00 CEST in summer 08:00 UTC.
    assert.deepEqual(latestLocalHour(utc('2026-03-28T09:00:00Z'), 10, BERLIN), {
      date: '2026-03-28',
      at: utc('2026-03-28T09:00:00Z'),
    });
    assert.deepEqual(latestLocalHour(utc('2026-03-29T08:30:00Z'), 10, BERLIN), {
      date: '2026-03-29',
      at: utc('2026-03-29T08:00:00Z'),
    });
    // The clocks went forward an hour ago (01:30 UTC = 03:30 CEST): 10:00 is still yesterday's.
    assert.equal(latestLocalHour(utc('2026-03-29T01:30:00Z'), 10, BERLIN).date, '2026-03-28');
    // A send time at 02:00 on the day 02:00 does not exist happens at 03:00 CEST.
    assert.deepEqual(latestLocalHour(utc('2026-03-29T01:30:00Z'), 2, BERLIN), {
      date: '2026-03-29',
      at: utc('2026-03-29T01:00:00Z'),
    });
    // When 02:00 happens twice, the first one is the send time.
    for (const at of ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z']) {
      assert.deepEqual(latestLocalHour(utc(at), 2, BERLIN), {
        date: '2026-10-25',
        at: utc('2026-10-25T00:00:00Z'),
      });
    }
  });
});

describe('local dates and hours', () => {
  it('localDate is the date in the zone', () => {
    assert.equal(localDate(utc('2026-11-25T20:59:59Z'), DAMASCUS), '2026-11-25');
    assert.equal(localDate(utc('2026-11-25T21:00:00Z'), DAMASCUS), '2026-11-26');
    assert.equal(localDate(utc('2026-11-25T21:00:00Z'), 'UTC'), '2026-11-25');
  });

  it('addDays and daysBetween are calendar arithmetic, unaffected by daylight saving', () => {
    assert.equal(addDays('2026-11-28', -3), '2026-11-25');
    assert.equal(addDays('2026-12-30', 3), '2027-01-02');
    assert.equal(addDays('2026-03-28', 1), '2026-03-29');
    assert.equal(daysBetween('2026-11-25', '2026-11-28'), 3);
    assert.equal(daysBetween('2026-11-28', '2026-11-25'), -3);
    assert.equal(daysBetween('2026-03-28', '2026-03-30'), 2);
    assert.equal(daysBetween('2026-10-24', '2026-10-26'), 2);
  });

  it('localInstant is the first instant of a local hour', () => {
    assert.deepEqual(localInstant('2026-11-25', 10, DAMASCUS), utc('2026-11-25T07:00:00Z'));
    assert.deepEqual(localInstant('2026-10-25', 2, BERLIN), utc('2026-10-25T00:00:00Z'));
    assert.deepEqual(localInstant('2026-03-29', 2, BERLIN), utc('2026-03-29T01:00:00Z'));
  });

  it('localHourKey names the local hour; the hour that repeats has one key', () => {
    assert.equal(localHourKey(utc('2026-11-25T21:15:00Z'), DAMASCUS), '2026-11-26T00');
    assert.equal(localHourKey(utc('2026-10-25T00:30:00Z'), BERLIN), '2026-10-25T02');
    assert.equal(localHourKey(utc('2026-10-25T01:30:00Z'), BERLIN), '2026-10-25T02');
    assert.equal(localHourKey(utc('2026-03-29T01:30:00Z'), BERLIN), '2026-03-29T03');
  });
});
