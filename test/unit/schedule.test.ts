import { describe, expect, it } from 'vitest';
import { compileSchedule, validateCron } from '../../lib/schedule/schedule';
import { nextRunAfter, scheduleCursorAt } from '../../lib/task/next-run';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('every schedules', () => {
  it('align to multiples of the interval since the epoch', () => {
    const s = compileSchedule({ every: '10m' });
    expect(iso(s.nextAfter(t('2026-01-01T10:03:27Z')))).toBe('2026-01-01T10:10:00.000Z');
  });

  it('are strictly after the given instant', () => {
    const s = compileSchedule({ every: '10m' });
    expect(iso(s.nextAfter(t('2026-01-01T10:10:00Z')))).toBe('2026-01-01T10:20:00.000Z');
  });

  it('support second-level intervals', () => {
    const s = compileSchedule({ every: '1s' });
    expect(s.between(t('2026-01-01T00:00:00Z'), t('2026-01-01T00:00:05Z'), 100).map(iso)).toEqual([
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
      '2026-01-01T00:00:03.000Z',
      '2026-01-01T00:00:04.000Z',
      '2026-01-01T00:00:05.000Z',
    ]);
  });

  it('stop at the cap', () => {
    const s = compileSchedule({ every: '1s' });
    expect(s.between(0, 1_000_000, 3)).toHaveLength(3);
  });

  it('refuse intervals under one second', () => {
    expect(() => compileSchedule({ every: '0s' })).toThrow(/at least 1s/);
  });
});

describe('offset', () => {
  it('delays the run time but not the scheduled instant', () => {
    const task = { every: '1h', offset: '10m', latestScheduled: '2026-01-01T10:00:00.000Z' };
    expect(nextRunAfter(task)).toBe('2026-01-01T11:10:00.000Z');
  });

  it('may be negative', () => {
    const task = { every: '1h', offset: '-5m', latestScheduled: '2026-01-01T10:00:00.000Z' };
    expect(nextRunAfter(task)).toBe('2026-01-01T10:55:00.000Z');
  });

  it('never makes the first run of a new task already late', () => {
    // At 10:57 with offset -5m, the 11:00 instant would run at 10:55 (late); the cursor skips it.
    const at = t('2026-01-01T10:57:00Z');
    const spec = { every: '1h', offset: '-5m' };
    const next = nextRunAfter({ ...spec, latestScheduled: scheduleCursorAt(spec, at) });
    expect(next).toBe('2026-01-01T11:55:00.000Z');
    expect(Date.parse(String(next))).toBeGreaterThan(at);
  });
});

describe('cron schedules', () => {
  it('evaluate 5-field expressions in UTC by default', () => {
    const s = compileSchedule({ cron: '30 9 * * *' });
    expect(iso(s.nextAfter(t('2026-03-01T10:00:00Z')))).toBe('2026-03-02T09:30:00.000Z');
  });

  it('support a seconds field (6 fields)', () => {
    const s = compileSchedule({ cron: '*/15 * * * * *' });
    expect(iso(s.nextAfter(t('2026-03-01T10:00:01Z')))).toBe('2026-03-01T10:00:15.000Z');
  });

  it('evaluate in the task time zone', () => {
    const s = compileSchedule({ cron: '0 9 * * *', timezone: 'Europe/Berlin' });
    // 09:00 in Berlin in winter is 08:00 UTC.
    expect(iso(s.nextAfter(t('2026-01-10T00:00:00Z')))).toBe('2026-01-10T08:00:00.000Z');
  });

  it('follow DST: 09:00 New York is 14:00 UTC in winter and 13:00 UTC in summer', () => {
    const s = compileSchedule({ cron: '0 9 * * *', timezone: 'America/New_York' });
    const runs = s.between(t('2026-03-06T00:00:00Z'), t('2026-03-10T23:59:59Z'), 10).map(iso);
    expect(runs).toEqual([
      '2026-03-06T14:00:00.000Z',
      '2026-03-07T14:00:00.000Z',
      '2026-03-08T13:00:00.000Z', // DST starts 2026-03-08
      '2026-03-09T13:00:00.000Z',
      '2026-03-10T13:00:00.000Z',
    ]);
  });

  it('run a time skipped by the spring-forward gap at most once, and never twice in the fall-back hour', () => {
    const spring = compileSchedule({ cron: '30 2 * * *', timezone: 'America/New_York' });
    const springRuns = spring.between(t('2026-03-07T00:00:00Z'), t('2026-03-09T23:00:00Z'), 10);
    expect(new Set(springRuns).size).toBe(springRuns.length);
    expect(springRuns.length).toBeLessThanOrEqual(3);

    const fall = compileSchedule({ cron: '30 1 * * *', timezone: 'America/New_York' });
    const fallRuns = fall.between(t('2026-10-31T12:00:00Z'), t('2026-11-01T23:00:00Z'), 10);
    // 01:30 happens twice on 2026-11-01 in New York; the task runs once that day.
    expect(fallRuns.filter((ms) => iso(ms).startsWith('2026-11-01'))).toHaveLength(1);
  });

  it('is strictly after an instant that matches exactly', () => {
    const s = compileSchedule({ cron: '0 * * * *' });
    expect(iso(s.nextAfter(t('2026-01-01T10:00:00Z')))).toBe('2026-01-01T11:00:00.000Z');
  });

  it.each([
    ['* * * *', /expected 5 or 6 fields/],
    ['* * * * * * *', /expected 5 or 6 fields/],
    ['61 * * * *', /invalid cron/],
    ['* * 32 * *', /invalid cron/],
    ['banana * * * *', /invalid cron/],
  ])('refuses %j', (cron, message) => {
    expect(() => validateCron(cron)).toThrow(message);
  });
});
