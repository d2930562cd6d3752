import { describe, expect, it } from 'vitest';
import { compileSchedule, validateCron } from '../../lib/schedule/schedule';

const ms = (iso: string) => Date.parse(iso);
const iso = (instant: number) => new Date(instant).toISOString();
/** Far enough for every row below (the Feb 29th row spans six years). */
const HORIZON_MS = 3000 * 86_400_000;

/**
 * [cron, timezone, after, the instants that follow], frozen from cron-parser 5.10.6
 * before Rota moved to croner. Rows marked `changed` are where croner, chosen on
 * purpose, schedules differently (docs/decisions/0013-lean-bundles.md); the comment
 * keeps what cron-parser gave. DST in 2026: Europe/Berlin springs forward on 03-29 at
 * 01:00Z (02:00 → 03:00) and falls back on 10-25 at 01:00Z (03:00 → 02:00);
 * America/New_York on 03-08 at 07:00Z and 11-01 at 06:00Z; Lord Howe falls back half
 * an hour on 04-05 at 15:00Z.
 */
// biome-ignore format: one row per case reads as a table
const INSTANTS: readonly (readonly [string, string, string, readonly string[]])[] = [
  ['*/15 * * * *', 'UTC', '2026-01-15T12:34:56.789Z', ['2026-01-15T12:45Z', '2026-01-15T13:00Z', '2026-01-15T13:15Z', '2026-01-15T13:30Z', '2026-01-15T13:45Z']],
  ['0 9 * * 1-5', 'UTC', '2026-01-15T12:00:00Z', ['2026-01-16T09:00Z', '2026-01-19T09:00Z', '2026-01-20T09:00Z', '2026-01-21T09:00Z', '2026-01-22T09:00Z']],
  ['0 9 * * MON-FRI', 'Europe/Berlin', '2026-01-15T12:00:00Z', ['2026-01-16T08:00Z', '2026-01-19T08:00Z', '2026-01-20T08:00Z', '2026-01-21T08:00Z', '2026-01-22T08:00Z']],
  ['0 0 L * *', 'UTC', '2026-01-15T00:00:00Z', ['2026-01-31T00:00Z', '2026-02-28T00:00Z', '2026-03-31T00:00Z', '2026-04-30T00:00Z']],
  ['0 12 * * 5L', 'UTC', '2026-01-15T00:00:00Z', ['2026-01-30T12:00Z', '2026-02-27T12:00Z', '2026-03-27T12:00Z', '2026-04-24T12:00Z']],
  ['0 12 * * FRI#2', 'UTC', '2026-01-15T00:00:00Z', ['2026-02-13T12:00Z', '2026-03-13T12:00Z', '2026-04-10T12:00Z', '2026-05-08T12:00Z']],
  // Day of month OR day of week, as in Vixie cron.
  ['0 0 1,15 * 1', 'UTC', '2026-01-15T00:00:00Z', ['2026-01-19T00:00Z', '2026-01-26T00:00Z', '2026-02-01T00:00Z', '2026-02-02T00:00Z', '2026-02-09T00:00Z', '2026-02-15T00:00Z']],
  ['0 0 29 2 *', 'UTC', '2026-01-15T00:00:00Z', ['2028-02-29T00:00Z', '2032-02-29T00:00Z']],
  ['*/20 * * * * *', 'UTC', '2026-01-15T23:59:30.500Z', ['2026-01-15T23:59:40Z', '2026-01-16T00:00Z', '2026-01-16T00:00:20Z', '2026-01-16T00:00:40Z']],
  ['5/15 * * * *', 'UTC', '2026-01-15T10:00:00Z', ['2026-01-15T10:05Z', '2026-01-15T10:20Z', '2026-01-15T10:35Z', '2026-01-15T10:50Z', '2026-01-15T11:05Z']],
  ['0 0 1 2/3 *', 'UTC', '2026-01-15T00:00:00Z', ['2026-02-01T00:00Z', '2026-05-01T00:00Z', '2026-08-01T00:00Z', '2026-11-01T00:00Z']],
  // A day-of-week step from a start runs through 7: Monday and Sunday (lib/schedule/cron.ts).
  ['0 0 * * 1/6', 'UTC', '2026-01-15T00:00:00Z', ['2026-01-18T00:00Z', '2026-01-19T00:00Z', '2026-01-25T00:00Z', '2026-01-26T00:00Z']],
  ['0 0 ? * 7', 'UTC', '2026-01-15T00:00:00Z', ['2026-01-18T00:00Z', '2026-01-25T00:00Z', '2026-02-01T00:00Z']],
  ['59 23 31 12 *', 'UTC', '2026-06-01T00:00:00Z', ['2026-12-31T23:59Z', '2027-12-31T23:59Z']],
  ['0 9 * * *', 'Asia/Kolkata', '2026-01-15T00:00:00Z', ['2026-01-15T03:30Z', '2026-01-16T03:30Z', '2026-01-17T03:30Z']],
  // changed: 02:30 does not exist on 03-29; it runs right after the gap, at 03:00, not 03:30.
  // cron-parser: 2026-03-28T01:30Z 2026-03-29T01:30Z 2026-03-30T00:30Z 2026-03-31T00:30Z
  ['30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', ['2026-03-28T01:30Z', '2026-03-29T01:00Z', '2026-03-30T00:30Z', '2026-03-31T00:30Z']],
  // 02:30 happens twice on 10-25: a fixed-time job runs at the first.
  ['30 2 * * *', 'Europe/Berlin', '2026-10-23T12:00:00Z', ['2026-10-24T00:30Z', '2026-10-25T00:30Z', '2026-10-26T01:30Z', '2026-10-27T01:30Z']],
  ['0 * * * *', 'Europe/Berlin', '2026-03-28T23:30:00Z', ['2026-03-29T00:00Z', '2026-03-29T01:00Z', '2026-03-29T02:00Z', '2026-03-29T03:00Z']],
  // An interval job follows the clock through the repeated hour: every real hour.
  ['0 * * * *', 'Europe/Berlin', '2026-10-24T23:30:00Z', ['2026-10-25T00:00Z', '2026-10-25T01:00Z', '2026-10-25T02:00Z', '2026-10-25T03:00Z']],
  ['*/30 * * * *', 'Europe/Berlin', '2026-10-24T23:45:00Z', ['2026-10-25T00:00Z', '2026-10-25T00:30Z', '2026-10-25T01:00Z', '2026-10-25T01:30Z', '2026-10-25T02:00Z', '2026-10-25T02:30Z']],
  // changed: an interval job skips the 02:00 that does not exist (cron-parser ran it at 03:00, then 04:00).
  // cron-parser: 2026-03-28T21:00Z 2026-03-28T23:00Z 2026-03-29T01:00Z 2026-03-29T02:00Z 2026-03-29T04:00Z
  ['0 */2 * * *', 'Europe/Berlin', '2026-03-28T20:30:00Z', ['2026-03-28T21:00Z', '2026-03-28T23:00Z', '2026-03-29T02:00Z', '2026-03-29T04:00Z', '2026-03-29T06:00Z']],
  // changed: and runs both 02:00s of the repeated hour, as `0 * * * *` always did.
  // cron-parser: 2026-10-24T22:00Z 2026-10-25T00:00Z 2026-10-25T03:00Z 2026-10-25T05:00Z 2026-10-25T07:00Z
  ['0 */2 * * *', 'Europe/Berlin', '2026-10-24T20:30:00Z', ['2026-10-24T22:00Z', '2026-10-25T00:00Z', '2026-10-25T01:00Z', '2026-10-25T03:00Z', '2026-10-25T05:00Z']],
  // changed: a list is fixed-time too (no * and no step): right after the gap, as for `30 2 * * *`.
  // cron-parser: 2026-03-28T13:30Z 2026-03-29T01:30Z 2026-03-29T12:30Z 2026-03-30T00:30Z
  ['30 2,14 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', ['2026-03-28T13:30Z', '2026-03-29T01:00Z', '2026-03-29T12:30Z', '2026-03-30T00:30Z']],
  ['0 1-3 * * *', 'Europe/Berlin', '2026-10-24T20:00:00Z', ['2026-10-24T23:00Z', '2026-10-25T00:00Z', '2026-10-25T02:00Z', '2026-10-26T00:00Z', '2026-10-26T01:00Z']],
  ['0 9 * * *', 'America/New_York', '2026-03-06T00:00:00Z', ['2026-03-06T14:00Z', '2026-03-07T14:00Z', '2026-03-08T13:00Z', '2026-03-09T13:00Z', '2026-03-10T13:00Z']],
  // changed: as in Berlin, 02:30 runs right after the gap, at 03:00 EDT.
  // cron-parser: 2026-03-07T07:30Z 2026-03-08T07:30Z 2026-03-09T06:30Z
  ['30 2 * * *', 'America/New_York', '2026-03-07T00:00:00Z', ['2026-03-07T07:30Z', '2026-03-08T07:00Z', '2026-03-09T06:30Z']],
  ['30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', ['2026-11-01T05:30Z', '2026-11-02T06:30Z', '2026-11-03T06:30Z']],
  ['*/30 * * * *', 'America/New_York', '2026-11-01T04:45:00Z', ['2026-11-01T05:00Z', '2026-11-01T05:30Z', '2026-11-01T06:00Z', '2026-11-01T06:30Z', '2026-11-01T07:00Z', '2026-11-01T07:30Z']],
  ['30 1,13 * * *', 'America/New_York', '2026-10-31T20:00:00Z', ['2026-11-01T05:30Z', '2026-11-01T18:30Z', '2026-11-02T06:30Z', '2026-11-02T18:30Z']],
  // changed: every minute of an hour that does not exist on 03-08 is skipped (cron-parser ran them in 03:xx).
  // cron-parser: 2026-03-08T07:00Z 2026-03-08T07:01Z 2026-03-08T07:02Z
  ['* 2 * * *', 'America/New_York', '2026-03-08T06:00:00Z', ['2026-03-09T06:00Z', '2026-03-09T06:01Z', '2026-03-09T06:02Z']],
  // changed: cron-parser threw "Invalid expression, loop limit exceeded" across Lord Howe's half-hour DST.
  ['0 * * * *', 'Australia/Lord_Howe', '2026-04-04T13:30:00Z', ['2026-04-04T14:00Z', '2026-04-04T15:30Z', '2026-04-04T16:30Z', '2026-04-04T17:30Z']],
];

describe('cron instants', () => {
  it.each(INSTANTS)('%j in %s after %s', (cron, timezone, after, expected) => {
    const schedule = compileSchedule({ cron, timezone });
    const instants = schedule.between(ms(after), ms(after) + HORIZON_MS, expected.length);
    expect(instants.map(iso)).toEqual(expected.map((e) => iso(ms(e))));
    expect(iso(schedule.nextAfter(ms(after)))).toBe(iso(ms(expected[0] ?? '')));
  });

  it.each(INSTANTS)(
    '%j in %s: next, latest and between agree on every instant',
    (cron, timezone, _, expected) => {
      // The scheduler walks forward with nextAfter and between, catch-up looks back with
      // latestAtOrBefore: across DST they must name the same instants.
      const schedule = compileSchedule({ cron, timezone });
      const instants = expected.map(ms);
      instants.forEach((instant, k) => {
        expect(iso(schedule.latestAtOrBefore(instant)), 'an instant is its own latest').toBe(iso(instant));
        const next = instants[k + 1];
        if (next === undefined) return;
        expect(iso(schedule.nextAfter(instant))).toBe(iso(next));
        expect(iso(schedule.latestAtOrBefore(next - 1))).toBe(iso(instant));
        expect(schedule.between(instant, next, 10).map(iso)).toEqual([iso(next)]);
      });
    },
  );
});

describe('the cron dialect', () => {
  const refusal = (cron: string) => {
    try {
      validateCron(cron);
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };

  it.each([
    '* * * * *',
    '*/5 * * * *',
    '0 9 * * mon-fri',
    '0 0 1 JAN *',
    '0 0 * jan-mar *',
    '0 0 * FEB,JUL *',
    '0 0 * * TUE,thu',
    '0 0 * * 0-7',
    '0 0 * * SUN-SAT',
    '0 0 ? * 1',
    '* * * * ? ?',
    '0 0 L,15 * *',
    '0 0 * * 1L',
    '0 0 * * 7L',
    '0 0 * * 0#1',
    '0 0 * * 7#1',
    '1-5/2 * * * *',
    '0 0 1-31/10 * *',
    '*/60 * * * *',
    '00 09 * * *',
    ' 0  0 * * * ',
    '0\t0 * * *',
    '0 0 0 * * 5L',
  ])('accepts %j, as cron-parser did', (cron) => {
    expect(refusal(cron)).toBe('accepted');
  });

  it.each([
    ['* * * *', 'invalid cron "* * * *": expected 5 or 6 fields, got 4'],
    ['0 0 0 * * * *', 'invalid cron "0 0 0 * * * *": expected 5 or 6 fields, got 7'],
    ['@daily', 'invalid cron "@daily": expected 5 or 6 fields, got 1'],
    [
      '61 * * * *',
      'invalid cron "61 * * * *": minute "61" must be 0-59, or *, a list, a range or a step (at most /60) of them',
    ],
    [
      '* 24 * * *',
      'invalid cron "* 24 * * *": hour "24" must be 0-23, or *, a list, a range or a step (at most /24) of them',
    ],
    [
      '* * 0 * *',
      'invalid cron "* * 0 * *": day-of-month "0" must be 1-31, L or a day with W (15W), or *, a list, a range or a step (at most /31) of them',
    ],
    [
      '* * * 13 *',
      'invalid cron "* * * 13 *": month "13" must be 1-12 or JAN-DEC, or *, a list, a range or a step (at most /12) of them',
    ],
    [
      '* * * * 8',
      'invalid cron "* * * * 8": day-of-week "8" must be 0-7 or SUN-SAT (0 and 7 are Sunday), a day with L (5L) or # (FRI#2), or *, a list, a range or a step (at most /7) of them',
    ],
    [
      '60 * * * * *',
      'invalid cron "60 * * * * *": second "60" must be 0-59, or *, a list, a range or a step (at most /60) of them',
    ],
  ])('refuses %j, naming the field and what it takes', (cron, message) => {
    expect(refusal(cron)).toBe(message);
  });

  it.each([
    '*/0 * * * *',
    '0 0 * * 1#6',
    '0 0 * * 1#0',
    '1,,2 * * * *',
    '-1 * * * *',
    '** * * * *',
    '*/5/2 * * * *',
    '1-2-3 * * * *',
    '0 22-2 * * *',
    '0 0 * * 6-0',
    '0 0 L-2 * *',
    '0 0 * * L',
    '0 0 * * MONDAY',
    '0 5-L * * *',
    '1.5 * * * *',
    '0x1 * * * *',
    '0 0 * * ,1',
  ])('refuses %j, as cron-parser did', (cron) => {
    expect(refusal(cron)).toMatch(new RegExp(`^invalid cron "${cron.replace(/[*?+.\\]/g, '\\$&')}": `));
  });

  it.each(['0 0 30 2 *', '0 0 31 4,6,9,11 *'])('refuses %j: it matches no date', (cron) => {
    expect(refusal(cron)).toBe(`invalid cron "${cron}": it matches no date`);
  });

  it.each([
    // cron-parser drew a random minute for H on every read, so the task's time moved with each tick.
    ['H * * * *', 'minute "H" must be'],
    // Steps longer than their field: cron-parser read them as the field's first value.
    ['*/61 * * * *', 'minute "*/61" must be'],
    ['0 0 * * */8', 'day-of-week "*/8" must be'],
  ])('refuses %j, which cron-parser accepted', (cron, message) => {
    expect(refusal(cron)).toContain(message);
  });

  it.each([
    // The weekday nearest the 15th: 2026-08-15 is a Saturday.
    ['0 0 15W * *', '2026-08-01T00:00:00Z', ['2026-08-14T00:00Z', '2026-09-15T00:00Z']],
    // The last weekday: 2026-01-31 and 2026-02-28 are Saturdays.
    ['0 0 LW * *', '2026-01-15T00:00:00Z', ['2026-01-30T00:00Z', '2026-02-27T00:00Z']],
    // `+` asks for AND: a 1st that is a Monday.
    ['0 12 1 * +MON', '2026-01-15T00:00:00Z', ['2026-06-01T12:00Z', '2027-02-01T12:00Z']],
    [
      '0 0 * * MON#1,FRI#3',
      '2026-01-01T00:00:00Z',
      ['2026-01-05T00:00Z', '2026-01-16T00:00Z', '2026-02-02T00:00Z'],
    ],
    ['0 0 * * 5#L', '2026-01-15T00:00:00Z', ['2026-01-30T00:00Z', '2026-02-27T00:00Z']],
    ['/15 * * * *', '2026-01-01T00:00:00Z', ['2026-01-01T00:15Z', '2026-01-01T00:30Z']],
    ['0,0,30 * * * *', '2026-01-01T00:00:00Z', ['2026-01-01T00:30Z', '2026-01-01T01:00Z']],
  ] as const)(
    'accepts %j, which cron-parser refused, and reads it as croner does',
    (cron, after, expected) => {
      const schedule = compileSchedule({ cron });
      const instants = schedule.between(ms(after), ms(after) + HORIZON_MS, expected.length);
      expect(instants.map(iso)).toEqual(expected.map((e) => iso(ms(e))));
    },
  );
});
