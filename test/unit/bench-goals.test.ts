import { describe, expect, it } from 'vitest';
import { lagGoal } from '../../bench/goals';
import type { LagResult } from '../../bench/lag';

const lag = (tasks: number, p99Ms: number, cpu: number, more: Partial<LagResult> = {}): LagResult => ({
  tasks,
  seconds: 20,
  workers: 10,
  batchingWindowMs: 0,
  expected: tasks * 20,
  runs: tasks * 20,
  fractionRan: 1,
  p50Ms: p99Ms / 2,
  p99Ms,
  maxMs: p99Ms,
  minMs: -200,
  earlyRuns: 3,
  target: { requests: tasks * 20, p50Ms: null, p99Ms: null, maxMs: null },
  executedInWindow: { runsPerSec: tasks, lagP50Ms: null },
  createMs: 0,
  readMs: 0,
  notSuccess: {},
  process: { cpuPercentOfOneCore: cpu, eventLoopDelayP50Ms: 0, eventLoopDelayP99Ms: 0 },
  ...more,
});

describe('the lag goal', () => {
  it('is measured at the load the process does not saturate, the saturated figure printed beside it', () => {
    const goal = lagGoal({ lagLight: lag(20, 700, 45), lag: lag(50, 2900, 101) } as never, 0);
    expect(goal.ok).toBe(true);
    expect(goal.figure).toMatch(/^p99 700 ms at 20 runs\/s, CPU 45 %/);
    expect(goal.figure).toMatch(/saturated: p99 2900 ms at 50 runs\/s, CPU 101 %/);
    expect(goal.figure).toMatch(/3 of 400 started early/);
  });

  it('is POOR, not measured, when every load saturated the process', () => {
    const goal = lagGoal({ lagLight: lag(20, 700, 95), lag: lag(50, 900, 101) } as never, 0);
    expect(goal.ok).toBe(false);
    expect(goal.figure).toMatch(/^not measured at a load that keeps below 85 % of a core/);
    expect(goal.figure).toMatch(/saturated: p99 700 ms/);
  });

  it('says a run that fell behind without using its core was starved, not saturated', () => {
    const goal = lagGoal({ lagLight: lag(20, 9000, 30, { runs: 300, fractionRan: 0.75 }) } as never, 0);
    expect(goal.ok).toBe(false);
    expect(goal.figure).toMatch(/behind \(75 % ran, the process got 30 % of a core\): p99 9000 ms/);
  });

  it('adds a deployed window the pollers did not model, worst case', () => {
    const goal = lagGoal({ lag: lag(20, 400, 40) } as never, 1000);
    expect(goal.ok).toBe(false);
    expect(goal.figure).toMatch(/^p99 1400 ms .* incl\. 1000 ms batching window added worst case/);
  });
});
