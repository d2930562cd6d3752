import { describe, expect, it } from 'vitest';
import { prepare } from '../../lib/store/prepared';
import { preparedWrites } from '../../lib/store/run-claims';
import { runItems } from '../../lib/store/run-items';
import { taskItems } from '../../lib/store/task-items';
import { preparedTaskWrites } from '../../lib/store/task-writes';

const send = {} as never;
const runs = preparedWrites(runItems({ tableName: 'rota-test', send, retentionMs: 60_000, openShards: 4 }));
const tasks = preparedTaskWrites(taskItems({ tableName: 'rota-test', send, dueShards: 8 }));

/** Two different sets of values per shape: the second call must not reuse the first's values. */
const twice = <V>(make: (n: number) => V) => [make(1), make(2)];

describe('prepared writes (built once per shape by dynamodb-toolbox, then filled in)', () => {
  const claimShapes = ['scheduled - -', 'manual runAt open', 'retry - open', 'scheduled runAt -'] as const;
  it.each(claimShapes)(
    'the claim of shape "%s" sends what the toolbox builds for the same values',
    (shape) => {
      for (const values of twice((n) => ({
        taskID: `task-${n}`,
        runID: `run-${n}`,
        token: `token-${n}`,
        now: 1_750_000_000_000 + n,
        startedAt: `2026-01-0${n}T00:00:00.000Z`,
        claimExpiresAt: 1_750_000_030_000 + n,
        scheduledFor: `2026-01-0${n}T00:00:00Z`,
        attempt: n,
        runAt: `2026-02-0${n}T00:00:00Z`,
        expiresAt: 1_760_000_000 + n,
        stallAt: 1_750_000_090_000 + n,
      })))
        expect(runs.claim(shape, values)).toEqual(runs.claim.fresh(shape, values));
    },
  );

  it.each(['success -', 'failed error', 'canceled -', 'canceled error'] as const)(
    'the final write of shape "%s" sends what the toolbox builds, with no log line or two',
    (shape) => {
      for (const values of twice((n) => ({
        taskID: `task-${n}`,
        runID: `run-${n}`,
        token: `token-${n}`,
        finishedAt: `2026-01-0${n}T00:00:01.000Z`,
        log: Array.from({ length: 2 * (n - 1) }, (_, i) => ({ time: `t${i}`, message: `line ${i} of ${n}` })),
        expiresAt: 1_760_000_000 + n,
        error: `boom ${n}`,
      })))
        expect(runs.finish(shape, values)).toEqual(runs.finish.fresh(shape, values));
    },
  );

  it('the heartbeat sends what the toolbox builds', () => {
    for (const values of twice((n) => ({
      taskID: `t${n}`,
      runID: `r${n}`,
      token: `k${n}`,
      claimExpiresAt: 1_750_000_000_000 + n,
    })))
      expect(runs.heartbeat('one', values)).toEqual(runs.heartbeat.fresh('one', values));
  });

  it('the live-log flush sends what the toolbox builds, with one line or three', () => {
    for (const values of twice((n) => ({
      taskID: `t${n}`,
      runID: `r${n}`,
      token: `k${n}`,
      liveLog: Array.from({ length: 2 * n - 1 }, (_, i) => ({ time: `t${i}`, message: `line ${i} of ${n}` })),
    })))
      expect(runs.flush('one', values)).toEqual(runs.flush.fresh('one', values));
  });

  it.each(['due', 'done'] as const)(
    'the scheduler advance of shape "%s" sends what the toolbox builds',
    (shape) => {
      for (const values of twice((n) => ({
        id: `task-${n}`,
        version: n + 1,
        expectedVersion: n,
        latestScheduled: `2026-01-0${n}T00:00:00Z`,
        nextRunAt: `2026-01-0${n}T00:01:00Z`,
        duePk: `DUE#${n}`,
        dueAt: 1_750_000_060_000 + n,
      })))
        expect(tasks.advance(shape, values)).toEqual(tasks.advance.fresh(shape, values));
    },
  );

  it('refuses a stand-in the schema would refuse, at the first call of the shape', () => {
    // status is an enum: a value that decides the shape cannot be a slot.
    const bad = prepare({ status: 'string' }, (v) => ({
      params: () => {
        if (!['active', 'inactive'].includes(v.status)) throw new Error('status must be active or inactive');
        return {};
      },
    }));
    expect(() => bad('one', { status: 'active' })).toThrow(/status must be/);
  });
});
