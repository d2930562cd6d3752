import { describe, expect, it } from 'vitest';
import {
  createPlanningWorker,
  createTickCoordinator,
  type PlanJob,
  PlanJobError,
  planningWorkersFor,
} from '../../lib/scheduler/fan-out';
import type { TickOptions, TickReport } from '../../lib/scheduler/scheduler';

const quiet = { warn: () => {}, info: () => {} };
const report = (more: Partial<TickReport> = {}): TickReport => ({
  due: 0,
  advanced: 0,
  conflicts: 0,
  enqueued: 0,
  failed: 0,
  deferred: 0,
  ...more,
});

/** A planner that records the ranges it was asked for and answers with `answer`. */
function recordingPlanner(answer: () => TickReport = () => report()) {
  const calls: (TickOptions['shards'] | 'all')[] = [];
  return {
    calls,
    tick: async (options: TickOptions = {}) => {
      calls.push(options.shards ?? 'all');
      return answer();
    },
  };
}

function recordingQueue() {
  const sent: PlanJob[] = [];
  return { sent, send: async (jobs: readonly PlanJob[]) => void sent.push(...jobs) };
}

describe('planningWorkersFor', () => {
  it('gives small deployments one worker and large ones up to the shard count', () => {
    const at = (activeTasks: number, shards = 8) =>
      planningWorkersFor({ activeTasks, shards, tickSeconds: 60, lookaheadSeconds: 900 });
    expect(at(0)).toBe(1);
    expect(at(10_000)).toBe(1); // 667 advances a tick
    expect(at(30_000)).toBe(1); // 2,000: one worker's worth
    expect(at(30_001)).toBe(2);
    expect(at(100_000)).toBe(4); // 6,667 advances
    expect(at(1_000_000)).toBe(8); // 34 wanted, 8 shards to split
    expect(at(1_000_000, 64)).toBe(34);
    // A one-minute lookahead advances every task every tick.
    expect(
      planningWorkersFor({ activeTasks: 10_000, shards: 8, tickSeconds: 60, lookaheadSeconds: 60 }),
    ).toBe(5);
  });
});

describe('the tick coordinator', () => {
  it('plans inline without a planning queue, whatever the count (local mode)', async () => {
    const planner = recordingPlanner(() => report({ advanced: 3 }));
    const coordinator = createTickCoordinator({ planner, shards: 8, workers: async () => 8, logger: quiet });
    expect(await coordinator.tick()).toMatchObject({ mode: 'inline', advanced: 3 });
    expect(planner.calls).toEqual(['all']);
  });

  it('plans inline when one worker is enough, and sends one job per range otherwise', async () => {
    const planner = recordingPlanner();
    const queue = recordingQueue();
    let workers = 1;
    const coordinator = createTickCoordinator({
      planner,
      queue,
      shards: 8,
      workers: async () => workers,
      logger: quiet,
      now: () => 1_000,
    });
    expect((await coordinator.tick()).mode).toBe('inline');
    expect(queue.sent).toEqual([]);
    workers = 3;
    expect(await coordinator.tick()).toEqual({ mode: 'fan-out', jobs: 3 });
    expect(queue.sent).toEqual([
      { from: 0, to: 2, tickAt: 1_000 },
      { from: 2, to: 5, tickAt: 1_000 },
      { from: 5, to: 8, tickAt: 1_000 },
    ]);
    expect(planner.calls).toEqual(['all']);
  });

  it('fans out over every shard after an inline tick ran out of time, whatever the (stale) count says', async () => {
    const planner = recordingPlanner(() => report({ deferred: 40 }));
    const queue = recordingQueue();
    const coordinator = createTickCoordinator({
      planner,
      queue,
      shards: 4,
      workers: async () => 1,
      logger: quiet,
    });
    expect(await coordinator.tick()).toMatchObject({ mode: 'inline', deferred: 40 });
    expect(await coordinator.tick()).toEqual({ mode: 'fan-out', jobs: 4 });
    // Caught up: the count decides again.
    expect((await coordinator.tick()).mode).toBe('inline');
  });
});

describe('the planning worker', () => {
  const worker = (planner = recordingPlanner(), now = 100_000) =>
    createPlanningWorker({ planner, shards: 8, intervalMs: 60_000, logger: quiet, now: () => now });
  const body = (job: Partial<PlanJob>) => JSON.stringify({ from: 0, to: 2, tickAt: 90_000, ...job });

  it('plans its range, and drops a job older than a tick without planning', async () => {
    const planner = recordingPlanner(() => report({ advanced: 2 }));
    expect(await worker(planner).plan(body({ from: 2, to: 5 }))).toMatchObject({
      outcome: 'planned',
      advanced: 2,
    });
    expect(await worker(planner).plan(body({ tickAt: 100_000 - 60_001 }))).toEqual({ outcome: 'stale' });
    expect(planner.calls).toEqual([{ from: 2, to: 5 }]);
  });

  it('fails a range with a failure in it, so SQS delivers it again', async () => {
    const planner = recordingPlanner(() => report({ failed: 1, advanced: 4 }));
    await expect(worker(planner).plan(body({}))).rejects.toThrow(
      /shards 0–2: 1 failure\(s\), left to a retry/,
    );
  });

  it.each([
    ['not JSON', 'nope', /body must be JSON \{from, to, tickAt\}/],
    ['a missing field', JSON.stringify({ from: 0, to: 1 }), /planning job: tickAt: /],
    ['an empty range', body({ from: 3, to: 3 }), /shards 3–3 must be a range within 0–8/],
    ['a range past the shards', body({ from: 6, to: 9 }), /shards 6–9 must be a range within 0–8/],
  ])('refuses %s with a PlanJobError naming what is wrong', async (_, text, message) => {
    const planner = recordingPlanner();
    const attempt = worker(planner).plan(text);
    await expect(attempt).rejects.toBeInstanceOf(PlanJobError);
    await expect(worker(planner).plan(text)).rejects.toThrow(message);
    expect(planner.calls).toEqual([]);
  });
});
