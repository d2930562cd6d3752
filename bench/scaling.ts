import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { createRunQueue } from '../lib/queue/run-queue';
import { dueShardsFor } from '../lib/scheduler/fan-out';
import { MAX_LOOKAHEAD_SECONDS, planOptionsFor } from '../lib/scheduler/plan';
import { createScheduler } from '../lib/scheduler/scheduler';
import { RequestCounter, totals } from './support/counter';
import {
  batchPut,
  createBenchEngine,
  DUE_SHARDS,
  round,
  silentLogger,
  startSubstrate,
  taskItem,
} from './support/engine';
import { rawTask } from './support/tasks';

/**
 * Figure 2: one scheduler tick with 100 due tasks among N stored tasks. The stored
 * tasks are seeded with BatchWriteItem as the task store's create() would write them:
 * most are active with a next run days ahead (so they sit in the sparse `due` index),
 * a tenth are inactive (not in it). The 100 due tasks run every minute and their next
 * instant is within the tick's 60 s lookahead.
 */

export interface ScalingPoint {
  tasks: number;
  due: number;
  /** Items the tick's due-index Queries returned (sum of Count). */
  itemsRead: number;
  queries: number;
  readUnits: number;
  /** Median tick time of `repetitions` ticks. */
  ms: number;
  msAll: number[];
  advanced: number;
  enqueued: number;
  /** Tasks actually stored (can be below the target when seeding hit its time budget). */
  seeded: number;
}

const DUE = 100;
const REPETITIONS = 3;

export async function measureScaling(
  levels: readonly number[],
  seedBudgetMs: number,
): Promise<{ points: ScalingPoint[]; note?: string | undefined; seedMs: number }> {
  // A dedicated emulator: 100k items must not slow the other figures down.
  const substrate = await startSubstrate();
  const counter = new RequestCounter();
  const engine = await createBenchEngine(substrate, { counter, prefix: 'scaling' });
  const points: ScalingPoint[] = [];
  let note: string | undefined;
  let seeded = 0;
  let seedMs = 0;
  const seedStarted = Date.now();
  try {
    const now = Date.now();
    const minute = Math.floor(now / 60_000) * 60_000;
    const dueIDs: string[] = [];
    const dueItems = () =>
      dueIDs.map((id) => {
        const latest = Math.floor(Date.now() / 60_000) * 60_000;
        return taskItem(rawTask({ id, every: '1m', latestScheduled: latest }));
      });
    for (let i = 0; i < DUE; i++) dueIDs.push(rawTask({ every: '1m', latestScheduled: minute }).id);
    await batchPut(engine.admin.dynamo, engine.tableName, dueItems());
    seeded = DUE;
    // One untimed tick warms the code paths (JIT, connections) the timed ticks use.
    await engine.scheduler.tick();

    for (const target of levels) {
      // Seed the idle tasks in chunks, within the time budget.
      while (seeded < target) {
        if (Date.now() - seedStarted > seedBudgetMs) {
          note = `seeding stopped at ${seeded} tasks (of ${target}) after the ${Math.round(seedBudgetMs / 1000)} s seeding budget`;
          break;
        }
        const chunk = Math.min(5000, target - seeded);
        const items = Array.from({ length: chunk }, (_, i) => {
          const n = seeded + i;
          const inactive = n % 10 === 0;
          return taskItem(
            rawTask({
              every: '1d',
              status: inactive ? 'inactive' : 'active',
              latestScheduled: now,
              nextRunAt: inactive ? undefined : now + 86_400_000 + Math.floor(Math.random() * 6 * 86_400_000),
            }),
          );
        });
        const started = Date.now();
        await batchPut(engine.admin.dynamo, engine.tableName, items, 8);
        seedMs += Date.now() - started;
        seeded += chunk;
      }
      const msAll: number[] = [];
      let last: Omit<ScalingPoint, 'ms' | 'msAll' | 'tasks' | 'seeded'> | undefined;
      for (let rep = 0; rep < REPETITIONS; rep++) {
        // Make the 100 due again (the previous tick advanced them).
        await batchPut(engine.admin.dynamo, engine.tableName, dueItems());
        counter.reset();
        const started = performance.now();
        const report = await engine.scheduler.tick();
        msAll.push(performance.now() - started);
        const t = totals(counter.snapshot(), ['scheduler']);
        last = {
          due: report.due,
          itemsRead: t.dynamodbItemsRead,
          queries: t.byOperation['DynamoDB:Query'] ?? 0,
          readUnits: t.dynamodbReadUnits,
          advanced: report.advanced,
          enqueued: report.enqueued,
        };
      }
      if (!last) throw new Error('no tick measured');
      const sorted = [...msAll].sort((a, b) => a - b);
      points.push({
        tasks: seeded,
        ...last,
        ms: round(sorted[Math.floor(sorted.length / 2)] ?? 0, 1),
        msAll: msAll.map((m) => round(m, 1)),
        seeded,
      });
      if (note) break;
    }
    return { points, note, seedMs };
  } finally {
    engine.close();
    await substrate.stop();
  }
}

/**
 * Figure 2b: the fan-out's planning rate. N every-1m tasks are all due, spread over
 * the due shards; one shard worker plans its shard (one range of the fan-out) with the
 * deployed plan options (15-minute lookahead: 15 runs per advance, sent to SQS in
 * shared batches). Its rate, tasks advanced per second, gives the 1M arithmetic.
 */
export interface ShardWorkerPoint {
  dueTasks: number;
  /** Tasks the worker's shard held. */
  shardTasks: number;
  advanced: number;
  runsPlanned: number;
  ms: number;
  tasksPerSecond: number;
}

export interface ShardScaling {
  points: ShardWorkerPoint[];
  /** 1M every-1m tasks: what the fan-out needs, from the slowest measured rate. */
  million: {
    tasks: number;
    lookaheadSeconds: number;
    dueShards: number;
    /** Tasks one tick advances in steady state: each task once per lookahead. */
    tasksPerTick: number;
    tasksPerShardPerTick: number;
    secondsPerShardWorker: number;
    tickSeconds: number;
    /** Share of the tick the slowest worker uses. */
    tickShare: number;
    wruPerSecondPerDuePartition: number;
    ok: boolean;
  };
}

/** A worker may use this share of the tick: the rest is headroom for a slow or late tick. */
const TICK_HEADROOM_SHARE = 0.5;

export async function measureShardWorkers(levels: readonly number[]): Promise<ShardScaling> {
  const substrate = await startSubstrate();
  const engine = await createBenchEngine(substrate, { prefix: 'shards' });
  const queue = createRunQueue({ client: engine.admin.sqs, queueUrl: engine.queues.runs.url });
  const points: ShardWorkerPoint[] = [];
  try {
    let seeded = 0;
    const ids: string[] = [];
    for (const target of levels) {
      const minute = Math.floor(Date.now() / 60_000) * 60_000;
      while (ids.length < target) ids.push(rawTask({ every: '1m', latestScheduled: minute }).id);
      // (Re)seed every task due now: the previous point advanced them.
      for (let i = 0; i < ids.length; i += 5000) {
        const chunk = ids
          .slice(i, i + 5000)
          .map((id) =>
            taskItem(rawTask({ id, every: '1m', latestScheduled: Math.floor(Date.now() / 60_000) * 60_000 })),
          );
        await batchPut(engine.admin.dynamo, engine.tableName, chunk, 8);
      }
      seeded = ids.length;
      const scheduler = createScheduler({
        tasks: engine.adminStores.tasks,
        queue,
        dueShards: DUE_SHARDS,
        logger: silentLogger,
        plan: planOptionsFor(60),
      });
      const started = performance.now();
      const report = await scheduler.tick({ shards: { from: 0, to: 1 } });
      const ms = performance.now() - started;
      points.push({
        dueTasks: seeded,
        shardTasks: report.due,
        advanced: report.advanced,
        runsPlanned: report.enqueued,
        ms: round(ms, 0),
        tasksPerSecond: round(report.advanced / (ms / 1000), 0),
      });
      await engine.admin.sqs.send(new PurgeQueueCommand({ QueueUrl: engine.queues.runs.url }));
    }
  } finally {
    engine.close();
    await substrate.stop();
  }
  return { points, million: millionArithmetic(points) };
}

export function millionArithmetic(points: readonly ShardWorkerPoint[]): ShardScaling['million'] {
  const tasks = 1_000_000;
  const lookaheadSeconds = MAX_LOOKAHEAD_SECONDS;
  const tickSeconds = 60;
  const rate = Math.min(...points.map((p) => p.tasksPerSecond));
  const tasksPerTick = Math.ceil((tasks * tickSeconds) / lookaheadSeconds);
  // Enough shards for the index (dueShardsFor) and for the workers to fit in the tick's share.
  const forTime = Math.ceil(tasksPerTick / (rate * tickSeconds * TICK_HEADROOM_SHARE));
  const dueShards = Math.max(DUE_SHARDS, dueShardsFor(tasks, 60, lookaheadSeconds), forTime);
  const tasksPerShardPerTick = Math.ceil(tasksPerTick / dueShards);
  const secondsPerShardWorker = tasksPerShardPerTick / rate;
  const tickShare = secondsPerShardWorker / tickSeconds;
  const wru = ((tasks / lookaheadSeconds) * 2) / dueShards;
  return {
    tasks,
    lookaheadSeconds,
    dueShards,
    tasksPerTick,
    tasksPerShardPerTick,
    secondsPerShardWorker: round(secondsPerShardWorker, 1),
    tickSeconds,
    tickShare: round(tickShare, 2),
    wruPerSecondPerDuePartition: round(wru, 0),
    ok: Number.isFinite(rate) && tickShare <= TICK_HEADROOM_SHARE && wru < 1000,
  };
}

/** The figure's lines, ok or POOR against "1M fit in the tick with headroom". */
export function formatShardScaling({ points, million: m }: ShardScaling): string[] {
  const lines = ['Scheduler fan-out: tasks planned per second per shard worker (15-minute lookahead)'];
  for (const p of points) {
    lines.push(
      `  ${p.dueTasks} due every-1m tasks: one worker planned its shard of ${p.shardTasks} (${p.runsPlanned} runs) in ${p.ms} ms = ${p.tasksPerSecond} tasks/s`,
    );
  }
  lines.push(
    `  1M every-1m tasks: ${m.tasksPerTick} advances per ${m.tickSeconds} s tick over ${m.dueShards} shards = ${m.tasksPerShardPerTick} per worker, ${m.secondsPerShardWorker} s (${Math.round(m.tickShare * 100)} % of the tick); ${m.wruPerSecondPerDuePartition} WRU/s per due partition`,
  );
  lines.push(
    `  ${m.ok ? 'ok' : 'POOR'}  1M fit in the tick with headroom (≤ ${TICK_HEADROOM_SHARE * 100} % of it, < 1,000 WRU/s)`,
  );
  return lines;
}
