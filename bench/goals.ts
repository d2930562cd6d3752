import type { BenchResults } from './report';
import type { ShardScaling } from './scaling';
import { PRICES } from './support/cost';

/**
 * Issue 14's goals, each with its figure and `ok` or `POOR`. Every figure is derived
 * from what this bench run measured; a goal the bench cannot measure yet is POOR with
 * "not measured", never ok.
 */

export interface Goal {
  goal: string;
  ok: boolean;
  figure: string;
}

export interface GoalInputs {
  results: Omit<BenchResults, 'goals'>;
  /** The deployed executor event source's batching window (infra/task-service.ts). */
  batchingWindowMs: number;
  /** Per-shard planning rates and the 1M arithmetic (bench/scaling.ts measureShardWorkers). */
  scaling?: ShardScaling | undefined;
}

const BUNDLE_LIMIT = 300 * 1024;
const n = (x: number, d = 2) => x.toFixed(d);

export function evaluateGoals({ results, batchingWindowMs, scaling }: GoalInputs): Goal[] {
  const goals: Goal[] = [];
  const unlimited = results.requestsPerRun.unlimited;
  const wruGoal = (goal: string, x: typeof unlimited | undefined): Goal => {
    if (!x) return { goal, ok: false, figure: 'not measured' };
    const index = Object.entries(x.indexWriteUnits ?? {})
      .map(([name, u]) => `${name} ${n(u)}`)
      .join(', ');
    return {
      goal,
      ok: x.dynamodbWriteUnits <= 3,
      figure: `${n(x.dynamodbWriteUnits)} WRU in ${n(x.dynamodbWrites)} writes (index part ${n(x.dynamodbGsiWriteUnits)}${index ? `: ${index}` : ''})`,
    };
  };
  goals.push(wruGoal('≤ 3 WRU per unlimited run (every GSI write counted)', unlimited));
  goals.push(
    wruGoal(
      '≤ 3 WRU per unlimited run of a task with a 1.5 KB script',
      results.requestsPerRun.unlimitedLarge,
    ),
  );

  const cost = results.costPerMillionRuns;
  const rota = cost.rotaByWorkload.unlimited;
  const eb = cost.eventbridgeScheduler;
  const ebHistory = eb + PRICES.dynamodbPerMillionWriteRequestUnits;
  const batchSize = cost.awsModel?.eventSource.batchSize ?? '?';
  goals.push({
    goal: '≤ $2 per million unlimited runs (DynamoDB + SQS + Lambda + CloudWatch Logs)',
    ok: rota.total <= 2,
    figure: `$${n(rota.total)} = DynamoDB ${n(rota.dynamodb)} + SQS ${n(rota.sqs)} + Lambda ${n(rota.lambda)} + Logs ${n(rota.logs)} (${cost.logs.bytesPerRun} B/run), on AWS timing at batches of ${batchSize}${cost.unlimitedAsMeasured ? ` ($${n(cost.unlimitedAsMeasured.total)} at the bench's own batches and emulator ms)` : ''}; EventBridge Scheduler → Lambda $${n(eb)}, with a history PutItem $${n(ebHistory)}`,
  });

  const limitedRatio = cost.rotaByWorkload.limited.total / rota.total;
  goals.push({
    goal: 'limited runs ≤ 1.3× an unlimited run, under contention',
    ok: limitedRatio <= 1.3,
    figure: `${n(limitedRatio)}× ($${n(cost.rotaByWorkload.limited.total)} vs $${n(rota.total)} per million; ${n(results.requestsPerRun.limited.dynamodbWriteUnits)} vs ${n(unlimited.dynamodbWriteUnits)} WRU)`,
  });

  if ('error' in results.lag) {
    goals.push({
      goal: 'lag p99 < 1 s on AWS timing',
      ok: false,
      figure: `not measured: ${results.lag.error}`,
    });
  } else {
    const p99 = results.lag.p99Ms;
    const modelled = p99 === null ? null : p99 + batchingWindowMs;
    goals.push({
      goal: 'lag p99 < 1 s on AWS timing',
      ok: modelled !== null && modelled < 1000,
      figure:
        modelled === null
          ? 'not measured: no run started'
          : `${modelled} ms = ${p99} ms measured (local pollers, window 0) + ${batchingWindowMs} ms batching window (deployed, worst case); p50 ${results.lag.p50Ms} ms`,
    });
  }

  const rates = scaling?.points.map((p) => `${p.tasksPerSecond} tasks/s at ${p.dueTasks} due`) ?? [];
  const m = scaling?.million;
  goals.push(
    m && rates.length > 0
      ? {
          goal: 'the scheduler scales out: 1M every-1m tasks fit the tick',
          ok: m.ok,
          figure: `per shard worker ${rates.join(', ')}; 1M tasks over ${m.dueShards} shards: ${m.secondsPerShardWorker} s of the ${m.tickSeconds} s tick (${Math.round(m.tickShare * 100)} %), ${m.wruPerSecondPerDuePartition} WRU/s per due partition`,
        }
      : {
          goal: 'the scheduler scales out: 1M every-1m tasks fit the tick',
          ok: false,
          figure: 'not measured (bench/scaling.ts measured no shard worker)',
        },
  );

  const bundles = results.bundles;
  const over = bundles.filter((b) => b.error || b.bytes >= BUNDLE_LIMIT);
  const largest = bundles.reduce(
    (a, b) => (b.bytes > a.bytes ? b : a),
    bundles[0] ?? { function: '–', bytes: 0 },
  );
  const slowest = bundles.reduce(
    (a, b) => ((b.initMs ?? 0) > (a.initMs ?? 0) ? b : a),
    bundles[0] ?? { function: '–', initMs: 0 },
  );
  goals.push({
    goal: 'every Lambda bundle < 300 KB minified, cold import measured',
    ok: bundles.length > 0 && over.length === 0,
    figure: `${over.length} of ${bundles.length} over (largest ${largest.function} ${Math.round(largest.bytes / 1024)} KiB); slowest import ${slowest.function} ${slowest.initMs ?? '–'} ms`,
  });
  return goals;
}
