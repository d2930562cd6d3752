import { describe, expect, it } from 'vitest';
import { RunLog } from '../../lib/executor/run-log';
import {
  freshRunID,
  runIDLowerBound,
  runIDUpperBound,
  scheduledForOf,
  scheduledRunID,
} from '../../lib/run/run-ids';
import { dueShardsFor, isStale, shardRanges } from '../../lib/scheduler/fan-out';
import { planOptionsFor, planRuns } from '../../lib/scheduler/plan';
import { nearestDelaySeconds } from '../../lib/scheduler/scheduler';
import type { Task } from '../../lib/task/model';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const task = (extra: Partial<Task>): Task => ({
  id: 't',
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
const options = { lookaheadMs: 60_000, dueWithinMs: 60_000, missedGraceMs: 120_000, cap: 1000 };

describe('planRuns', () => {
  it('enqueues every instant due within the lookahead, ahead of time', () => {
    const now = t('2026-01-01T00:00:05Z');
    const plan = planRuns(task({}), now, options);
    expect(plan.instants.map(iso)).toEqual(
      Array.from({ length: 6 }, (_, i) => iso(t('2026-01-01T00:00:10Z') + i * 10_000)),
    );
    expect(iso(plan.latestScheduled)).toBe('2026-01-01T00:01:00.000Z');
    expect(iso(Number(plan.nextRunAt))).toBe('2026-01-01T00:01:10.000Z');
  });

  it('includes the offset in the window: an instant runs at scheduledFor + offset', () => {
    // At 00:00:05 the 00:01:00 instant runs at 00:01:30, beyond the one-minute lookahead.
    expect(
      planRuns(task({ every: '1m', offset: '30s' }), t('2026-01-01T00:00:05Z'), options).instants,
    ).toEqual([]);
    const plan = planRuns(task({ every: '1m', offset: '30s' }), t('2026-01-01T00:00:35Z'), options);
    expect(plan.instants.map(iso)).toEqual(['2026-01-01T00:01:00.000Z']);
    expect(iso(Number(plan.nextRunAt))).toBe('2026-01-01T00:02:30.000Z');
  });

  const afterDowntime = t('2026-01-01T01:00:00Z'); // an hour after the cursor

  it('skip drops every missed instant and keeps the upcoming ones', () => {
    const plan = planRuns(task({ catchUp: 'skip' }), afterDowntime, options);
    expect(plan.skipped).toBe(true);
    // Instants within the grace window (late by < 2 min) still run; older ones are gone.
    expect(plan.instants[0]).toBeGreaterThan(afterDowntime - options.missedGraceMs);
    expect(plan.instants.at(-1)).toBe(afterDowntime + 60_000);
  });

  it('latest keeps only the most recent missed instant', () => {
    const plan = planRuns(task({ catchUp: 'latest' }), afterDowntime, options);
    const missed = plan.instants.filter((x) => x <= afterDowntime - options.missedGraceMs);
    expect(missed.map(iso)).toEqual(['2026-01-01T00:58:00.000Z']);
  });

  it('all replays every missed instant oldest first, up to the cap per tick', () => {
    const plan = planRuns(task({ catchUp: 'all' }), afterDowntime, options);
    expect(plan.instants[0]).toBe(t('2026-01-01T00:00:10Z'));
    expect(plan.instants).toHaveLength(360 + 6);

    const capped = planRuns(task({ catchUp: 'all', every: '1s' }), afterDowntime, options);
    expect(capped.instants).toHaveLength(1000);
    // The cursor stops at the last enqueued instant, so the next tick continues from there.
    expect(capped.latestScheduled).toBe(capped.instants.at(-1));
    expect(capped.nextRunAt).toBe((capped.instants.at(-1) ?? 0) + 1000);
  });

  it('follows a cron schedule in its time zone', () => {
    const plan = planRuns(
      task({ every: undefined, cron: '*/20 * * * * *', latestScheduled: '2026-01-01T00:00:00.000Z' }),
      t('2026-01-01T00:00:01Z'),
      options,
    );
    expect(plan.instants.map(iso)).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
  });
});

describe('planOptionsFor', () => {
  it('with a one-minute lookahead, reads due tasks two ticks ahead but plans a full minute', () => {
    expect(planOptionsFor(1, 60)).toMatchObject({ lookaheadMs: 60_000, dueWithinMs: 2_000 });
    expect(planOptionsFor(60, 60)).toMatchObject({
      lookaheadMs: 60_000,
      dueWithinMs: 60_000,
      missedGraceMs: 120_000,
    });
    expect(planOptionsFor(300, 60)).toMatchObject({
      lookaheadMs: 300_000,
      dueWithinMs: 300_000,
      missedGraceMs: 600_000,
    });
  });

  it("plans 15 minutes ahead by default, capped at SQS's 900 s delay, without widening the missed grace", () => {
    expect(planOptionsFor(60)).toMatchObject({
      lookaheadMs: 900_000,
      dueWithinMs: 120_000,
      missedGraceMs: 120_000,
    });
    expect(planOptionsFor(1)).toMatchObject({
      lookaheadMs: 900_000,
      dueWithinMs: 2_000,
      missedGraceMs: 120_000,
    });
    expect(planOptionsFor(60, 3600).lookaheadMs).toBe(900_000);
    // Never shorter than one tick, or runs between ticks would start late.
    expect(planOptionsFor(300, 120).lookaheadMs).toBe(300_000);
  });

  it('one advance of an every-1m task plans 15 runs, and the cursor (the due time) moves 15 minutes on', () => {
    const now = t('2026-01-01T00:00:05Z');
    const plan = planRuns(
      task({ every: '1m', latestScheduled: '2026-01-01T00:00:00.000Z' }),
      now,
      planOptionsFor(60),
    );
    expect(plan.instants).toHaveLength(15);
    expect(iso(plan.instants[0] ?? 0)).toBe('2026-01-01T00:01:00.000Z');
    expect(iso(plan.latestScheduled)).toBe('2026-01-01T00:15:00.000Z');
    expect(iso(Number(plan.nextRunAt))).toBe('2026-01-01T00:16:00.000Z');
    // Tasks with an interval beyond the lookahead still plan one instant at a time.
    const hourly = planRuns(task({ every: '1h' }), t('2026-01-01T00:59:30Z'), planOptionsFor(60));
    expect(hourly.instants.map(iso)).toEqual(['2026-01-01T01:00:00.000Z']);
  });

  it('re-planning from the advanced cursor never repeats an instant (a crash before the advance repeats them all)', () => {
    const options = planOptionsFor(60);
    const first = planRuns(task({ every: '1m' }), t('2026-01-01T00:00:05Z'), options);
    const repeat = planRuns(task({ every: '1m' }), t('2026-01-01T00:00:35Z'), options);
    // Same cursor: the re-run plans the same instants (their run IDs are the same).
    expect(repeat.instants.slice(0, 14)).toEqual(first.instants.slice(0, 14));
    const next = planRuns(
      task({ every: '1m', latestScheduled: iso(first.latestScheduled) }),
      t('2026-01-01T00:14:00Z'),
      options,
    );
    expect(next.instants[0]).toBe(first.latestScheduled + 60_000);
  });
});

describe('run IDs', () => {
  it('are deterministic for a scheduled instant and sort by scheduledFor', () => {
    const a = scheduledRunID('task-1', t('2026-01-01T00:00:10Z'));
    expect(scheduledRunID('task-1', t('2026-01-01T00:00:10Z'))).toBe(a);
    expect(scheduledRunID('task-2', t('2026-01-01T00:00:10Z'))).not.toBe(a);
    expect(scheduledRunID('task-1', t('2026-01-01T00:00:09Z')) < a).toBe(true);
    expect(scheduledForOf(a)).toBe(t('2026-01-01T00:00:10Z'));
  });

  it('fall inside the key range of their time', () => {
    const at = t('2026-03-01T12:00:00Z');
    const id = freshRunID(at);
    expect(id >= runIDLowerBound(at) && id <= runIDUpperBound(at)).toBe(true);
    expect(id > runIDUpperBound(at - 1)).toBe(true);
  });
});

describe('RunLog', () => {
  it('bounds the log and marks the truncation once', () => {
    const log = new RunLog(1024);
    for (let i = 0; i < 100; i++) log.add(`line ${i} ${'x'.repeat(40)}`);
    const text = log.entries.map((e) => e.message);
    expect(text.at(-1)).toMatch(/log truncated: a run keeps at most 1024 bytes/);
    expect(text.filter((m) => m.startsWith('log truncated'))).toHaveLength(1);
    expect(Buffer.byteLength(JSON.stringify(log.entries))).toBeLessThan(2048);
    expect(text[0]).toMatch(/^line 0 /);
  });
});

describe('fan-out arithmetic', () => {
  it('splits shards into even contiguous ranges, none empty', () => {
    expect(shardRanges(8, 3)).toEqual([
      { from: 0, to: 2 },
      { from: 2, to: 5 },
      { from: 5, to: 8 },
    ]);
    expect(shardRanges(2, 5)).toEqual([
      { from: 0, to: 1 },
      { from: 1, to: 2 },
    ]);
  });

  it('keeps each due-index partition under half of 1,000 WRU/s at 1M every-1m tasks', () => {
    // 1e6 tasks / 900 s per advance × 2 WRU per due-key move = 2,222 WRU/s.
    expect(dueShardsFor(1_000_000, 60, 900)).toBe(5);
    expect(((1_000_000 / 900) * 2) / dueShardsFor(1_000_000, 60, 900)).toBeLessThan(1000);
    // Without the lookahead the same tasks need 67 shards.
    expect(dueShardsFor(1_000_000, 60, 60)).toBe(67);
    expect(dueShardsFor(10, 60, 900)).toBe(1);
  });

  it('drops a planning job older than one tick', () => {
    expect(isStale({ from: 0, to: 1, tickAt: 0 }, 61_000, 60_000)).toBe(true);
    expect(isStale({ from: 0, to: 1, tickAt: 0 }, 59_000, 60_000)).toBe(false);
  });
});

describe('nearestDelaySeconds', () => {
  it('rounds a delay to the nearest second within SQS 0–900, so a run arrives within half a second', () => {
    expect(nearestDelaySeconds(1_499)).toBe(1);
    expect(nearestDelaySeconds(1_500)).toBe(2);
    expect(nearestDelaySeconds(-300)).toBe(0);
    expect(nearestDelaySeconds(899_600)).toBe(900);
    expect(nearestDelaySeconds(2_000_000)).toBe(900);
  });
});
