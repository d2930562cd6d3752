import { nearestDelaySeconds } from '../lib/scheduler/scheduler';

/**
 * Figure: what each way of turning a run's delay into SQS's whole DelaySeconds costs in
 * lag and in billed executor time, over sends at every sub-second phase. SQS's own
 * delivery latency (tens of ms on AWS, plus the event source's batching window) adds
 * to every policy alike and is left out (bench/lag.ts measures it).
 *
 * - floor + sleep (before issue 14): arrives up to 1 s early; the executor sleeps the rest.
 * - nearest (now): arrives within ±0.5 s; no sleep.
 * - ceil: never early, up to 1 s late; no sleep.
 */
export interface RoundingFigure {
  policy: 'floor + sleep' | 'nearest' | 'ceil';
  /** Start − run time, ms. */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxAbsMs: number;
  /** Mean ms an executor invocation is billed for waiting. */
  sleepMsPerRun: number;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

export function measureDelayRounding(samples = 10_000): RoundingFigure[] {
  const policies = {
    'floor + sleep': (ms: number) => Math.floor(ms / 1000),
    nearest: nearestDelaySeconds,
    ceil: (ms: number) => Math.ceil(ms / 1000),
  } as const;
  return (Object.keys(policies) as (keyof typeof policies)[]).map((policy) => {
    const lags: number[] = [];
    let sleep = 0;
    for (let i = 0; i < samples; i++) {
      // A run 30 s ahead, sent at an evenly spread sub-second phase.
      const ahead = 30_000 + (i / samples) * 1000;
      const arrives = policies[policy](ahead) * 1000;
      const early = ahead - arrives;
      const waits = policy === 'floor + sleep' && early > 0 ? early : 0;
      sleep += waits;
      lags.push(arrives + waits - ahead);
    }
    lags.sort((a, b) => a - b);
    return {
      policy,
      lagP50Ms: Math.round(percentile(lags, 0.5)),
      lagP99Ms: Math.round(percentile(lags, 0.99)),
      lagMaxAbsMs: Math.round(Math.max(...lags.map(Math.abs))),
      sleepMsPerRun: Math.round(sleep / samples),
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of measureDelayRounding()) {
    process.stdout.write(
      `${f.policy.padEnd(14)} lag p50 ${f.lagP50Ms} ms, p99 ${f.lagP99Ms} ms, |max| ${f.lagMaxAbsMs} ms; sleep billed ${f.sleepMsPerRun} ms/run\n`,
    );
  }
}
