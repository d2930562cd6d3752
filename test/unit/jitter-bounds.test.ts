import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors';
import { jitterOf } from '../../lib/schedule/jitter';
import { compileSchedule } from '../../lib/schedule/schedule';
import { planOptionsFor, planRuns } from '../../lib/scheduler/plan';
import { packOffset, unpackOffset } from '../../lib/store/schedule-extras';
import { upcomingQuery } from '../../lib/systems/tasks/api-schemas';
import type { Task } from '../../lib/task/model';
import { taskDefinitionSchema, taskPatchSchema } from '../../lib/task/model';
import { nextRunAfter, scheduleCursorAt, upcomingRuns } from '../../lib/task/next-run';
import { applyPatch } from '../../lib/task/task-service';
import { describeIssues, parseOrThrow } from '../../lib/validation';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const target = { kind: 'http', url: 'https://example.com/hook' } as const;
const base = { orgID: 'org1', name: 'job', every: '1m', metadata: { target } };

const issues = (input: unknown) => {
  const result = taskDefinitionSchema.safeParse(input);
  return result.success ? '' : describeIssues(result.error);
};

/** The whole message an `invalid` error answers with: its context and the issues it was caused by. */
function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidError);
    expect((error as InvalidError).code).toBe('invalid');
    return `${(error as Error).message}: ${((error as Error).cause as Error | undefined)?.message ?? ''}`;
  }
  return '';
}

const task = (extra: Partial<Task>): Task => ({
  id: 'task-1',
  type: 'probe',
  orgID: 'o',
  name: 'n',
  description: '',
  status: 'active',
  every: '10s',
  catchUp: 'latest',
  metadata: {},
  latestScheduled: '2026-01-01T00:00:00.000Z',
  createdAt: '',
  updatedAt: '',
  version: 1,
  revision: 1,
  ...extra,
});

describe('jitter', () => {
  const instants = Array.from({ length: 2000 }, (_, i) => t('2026-01-01T00:00:00Z') + i * 60_000);

  it('is a whole number of ms in [0, jitter), the same for the same task and instant', () => {
    for (const at of instants) {
      const d = jitterOf('task-1', at, 30_000);
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(30_000);
      expect(jitterOf('task-1', at, 30_000)).toBe(d);
    }
  });

  it('spreads over the window and differs between tasks', () => {
    const values = instants.map((at) => jitterOf('task-1', at, 30_000));
    expect(new Set(values).size).toBeGreaterThan(1900);
    // Roughly uniform: each third of the window holds about a third of the instants.
    for (let third = 0; third < 3; third++) {
      const inThird = values.filter((d) => Math.floor(d / 10_000) === third).length;
      expect(inThird).toBeGreaterThan(550);
      expect(inThird).toBeLessThan(780);
    }
    const other = instants.map((at) => jitterOf('task-2', at, 30_000));
    expect(other.filter((d, i) => d === values[i]).length).toBeLessThan(5);
  });

  it('is 0 without a jitter, and a run time adds offset and jitter to the instant', () => {
    expect(jitterOf('task-1', instants[0] ?? 0, 0)).toBe(0);
    const schedule = compileSchedule({ every: '1m', offset: '5s', jitter: '20s' });
    const at = t('2026-01-01T00:01:00Z');
    expect(schedule.runAt('task-1', at)).toBe(at + 5000 + jitterOf('task-1', at, 20_000));
  });
});

describe('startAt and endAt', () => {
  const spec = {
    id: 'task-1',
    every: '1h',
    startAt: '2026-03-01T03:30:00Z',
    endAt: '2026-03-01T07:00:00Z',
  };

  it('bound the instants upcoming lists, the cursor and the next run', () => {
    const listed = upcomingRuns(spec, t('2026-02-01T00:00:00Z'), 10).map((r) => iso(r.scheduledFor));
    expect(listed).toEqual([
      '2026-03-01T04:00:00.000Z',
      '2026-03-01T05:00:00.000Z',
      '2026-03-01T06:00:00.000Z',
      '2026-03-01T07:00:00.000Z',
    ]);
    const cursor = scheduleCursorAt(spec, t('2026-02-01T00:00:00Z'));
    expect(nextRunAfter({ ...spec, latestScheduled: cursor })).toBe('2026-03-01T04:00:00.000Z');
    expect(nextRunAfter({ ...spec, latestScheduled: '2026-03-01T07:00:00.000Z' })).toBeUndefined();
    expect(upcomingRuns(spec, t('2026-03-01T07:00:00Z'), 10)).toEqual([]);
  });

  it('an instant exactly at startAt runs', () => {
    const exact = { ...spec, startAt: '2026-03-01T04:00:00Z' };
    expect(iso(upcomingRuns(exact, t('2026-02-01T00:00:00Z'), 1)[0]?.scheduledFor ?? 0)).toBe(
      '2026-03-01T04:00:00.000Z',
    );
  });

  it('the scheduler plans none before startAt or after endAt, and leaves the due index after the last', () => {
    const bounded = task({
      every: '1m',
      startAt: '2026-01-01T00:05:00Z',
      endAt: '2026-01-01T00:08:00Z',
      latestScheduled: '2026-01-01T00:00:00.000Z',
    });
    const plan = planRuns(bounded, t('2026-01-01T00:00:30Z'), planOptionsFor(60, 900));
    expect(plan.instants.map(iso)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:06:00.000Z',
      '2026-01-01T00:07:00.000Z',
      '2026-01-01T00:08:00.000Z',
    ]);
    expect(plan.nextRunAt).toBeUndefined();
  });

  it('catch-up latest never replays an instant after endAt', () => {
    const ended = task({ every: '1m', endAt: '2026-01-01T00:03:00Z', catchUp: 'latest' });
    const plan = planRuns(ended, t('2026-01-01T02:00:00Z'), planOptionsFor(60));
    expect(plan.instants.map(iso)).toEqual(['2026-01-01T00:03:00.000Z']);
    expect(plan.nextRunAt).toBeUndefined();
  });
});

describe('planning with jitter', () => {
  it('delays each run to its jittered time and plans none beyond the lookahead', () => {
    const options = planOptionsFor(60, 900);
    const now = t('2026-01-01T00:00:00Z');
    const jittered = task({ every: '1m', jitter: '1m', offset: '10s' });
    const plan = planRuns(jittered, now, options);
    expect(plan.instants.length).toBeGreaterThanOrEqual(13);
    for (const at of plan.instants) {
      const runAt = plan.runAt(at);
      expect(runAt - at - 10_000).toBe(jitterOf('task-1', at, 60_000));
      expect(runAt).toBeLessThanOrEqual(now + options.lookaheadMs);
    }
    // The next run is the jittered run time of the first instant not planned.
    const next = (plan.instants.at(-1) ?? 0) + 60_000;
    expect(plan.nextRunAt).toBe(next + 10_000 + jitterOf('task-1', next, 60_000));
  });
});

describe('validation names the field', () => {
  it.each([
    [{ ...base, jitter: '2m' }, /^jitter: jitter must be at most the every interval \(1m\)$/],
    [{ ...base, every: undefined, cron: '0 * * * *', jitter: '2h' }, /^jitter: jitter must be at most 1h/],
    [{ ...base, jitter: '-5s' }, /^jitter: invalid duration "-5s"/],
    [{ ...base, jitter: 'soon' }, /^jitter: invalid duration/],
    [{ ...base, startAt: 'tomorrow' }, /^startAt: must be an RFC3339 time/],
    [{ ...base, endAt: '2026-13-01T00:00:00Z' }, /^endAt: must be an RFC3339 time/],
    [
      { ...base, startAt: '2026-03-01T00:00:00Z', endAt: '2026-03-01T00:00:00Z' },
      /^endAt: endAt must be after startAt/,
    ],
  ])('%j', (input, message) => {
    expect(issues(input)).toMatch(message);
  });

  it('accepts a jitter equal to the interval, an hour for cron, and bounds with offsets', () => {
    expect(issues({ ...base, jitter: '1m' })).toBe('');
    expect(issues({ ...base, every: undefined, cron: '* * * * *', jitter: '1h' })).toBe('');
    expect(issues({ ...base, startAt: '2026-03-01T00:00:00+01:00', endAt: '2026-03-01T00:00:00Z' })).toBe('');
  });

  it('a PATCH is judged on the merged task, and null clears the fields', () => {
    const current = task({ every: '1m', startAt: '2026-03-01T00:00:00Z', jitter: '30s' });
    const at = t('2026-01-01T00:00:00Z');
    expect(messageOf(() => applyPatch(current, { endAt: '2026-02-01T00:00:00Z' }, at))).toMatch(
      /^invalid update: endAt: endAt must be after startAt/,
    );
    expect(messageOf(() => applyPatch(current, { every: '10s' }, at))).toMatch(
      /^invalid update: jitter: jitter must be at most the every interval \(10s\)/,
    );
    const cleared = applyPatch(
      current,
      parseOrThrow(taskPatchSchema, { startAt: null, jitter: null }, 'invalid update'),
      at,
    );
    expect(cleared.startAt).toBeUndefined();
    expect(cleared.jitter).toBeUndefined();
    expect(cleared.revision).toBe(2);
  });

  it('a bad limit is a 400 invalid naming limit', () => {
    for (const limit of ['0', '101', 'ten', '1.5']) {
      expect(messageOf(() => parseOrThrow(upcomingQuery, { limit }, 'invalid query'))).toMatch(
        /^invalid query: limit: /,
      );
    }
    expect(parseOrThrow(upcomingQuery, {}, 'invalid query')).toEqual({ limit: 10 });
  });
});

describe('the stored offset attribute', () => {
  it('keeps a plain offset as it was and carries the extras for the due index', () => {
    expect(packOffset({ offset: '5m' })).toBe('5m');
    expect(packOffset({})).toBeUndefined();
    const extras = { jitter: '30s', startAt: '2026-03-01T00:00:00+01:00', endAt: '2026-04-01T00:00:00Z' };
    for (const offset of ['5m', '-30s', undefined]) {
      const stored = packOffset({ offset, ...extras });
      const { item, extras: back } = unpackOffset({ id: 'x', offset: stored });
      expect(item).toEqual(offset === undefined ? { id: 'x' } : { id: 'x', offset });
      expect(back).toEqual(extras);
    }
    expect(unpackOffset({ id: 'x', offset: '5m' })).toEqual({ item: { id: 'x', offset: '5m' }, extras: {} });
  });
});
