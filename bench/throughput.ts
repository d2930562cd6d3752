import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ATTR, dueShardKeys, INDEX, runSk, taskKey, taskPk } from '../lib/store/keys';
import { startWorkerPool } from '../local/worker-pool';
import type { Totals } from './support/counter';
import {
  batchPut,
  createBenchEngine,
  createQueue,
  DUE_SHARDS,
  round,
  sqsClient,
  startSubstrate,
  taskItem,
} from './support/engine';
import { dueNowSchedule, rawTask } from './support/tasks';

/**
 * Figure 3: runs per second end to end (scheduler tick → SQS → executor pollers →
 * no-op runner) on the emulators, beside the emulators' own ceiling for the same
 * requests without any Rota code.
 *
 * The Rota workload has the shape of the `unlimited` request workload: N tasks with one
 * instant due now each, so one tick advances N tasks and enqueues N runs.
 */

/** Executor pollers, like the event source's concurrency; each takes batches of 10. */
export const WORKERS = 10;
const BATCH_SIZE = 10;
/** createScheduler's default: tasks advanced in parallel within one tick. */
const SCHEDULER_PARALLELISM = 16;

export interface OpMix {
  /** Per run, scheduler side (writes to the task item; sends). */
  scheduler: Record<string, number>;
  /** Per run, executor side. */
  executor: Record<string, number>;
}

/** The per-run request mix the substrate replays, from the unlimited workload's counts. */
export function opMixFrom(unlimited: Totals): OpMix {
  return {
    scheduler: unlimited.bySource.scheduler ?? {},
    executor: unlimited.bySource.executor ?? {},
  };
}

export interface ThroughputResult {
  runs: number;
  workers: number;
  batchSize: number;
  rotaRunsPerSec: number;
  rotaMs: number;
  rotaCompleted: boolean;
  /** Runs the one tick enqueued (expected: `runs`); the Rota figures are per enqueued run. */
  rotaEnqueued: number;
  /** Set when the tick enqueued fewer runs than tasks were due. */
  shortfall?: string | undefined;
  /** How long the one tick took to advance and enqueue all N tasks (executors running meanwhile). */
  rotaTickMs: number;
  schedulerTasksPerSec: number;
  substrateRunsPerSec: number;
  substrateMs: number;
  substrateOps: { perTick: Record<string, number>; perRun: Record<string, number | string> };
  ratio: number;
  /** CPU of the bench process per run: emulators + SDK + (for Rota) the engine. */
  cpuMsPerRun: { rota: number; substrate: number };
}

export async function measureThroughput(runs: number, mix: OpMix): Promise<ThroughputResult> {
  const rota = await rotaThroughput(runs);
  const substrate = await substrateThroughput(runs, mix);
  return {
    runs,
    workers: WORKERS,
    batchSize: BATCH_SIZE,
    rotaRunsPerSec: round(rota.enqueued / (rota.ms / 1000), 1),
    rotaMs: Math.round(rota.ms),
    rotaCompleted: rota.completed,
    rotaEnqueued: rota.enqueued,
    shortfall: rota.enqueued < runs ? `the tick enqueued ${rota.enqueued} of ${runs} due runs` : undefined,
    rotaTickMs: Math.round(rota.tickMs),
    schedulerTasksPerSec: round(rota.enqueued / (rota.tickMs / 1000), 1),
    substrateRunsPerSec: round(runs / (substrate.ms / 1000), 1),
    substrateMs: Math.round(substrate.ms),
    substrateOps: substrate.ops,
    ratio: round(substrate.ms / rota.ms, 2),
    cpuMsPerRun: {
      rota: round(rota.cpuMs / Math.max(1, rota.enqueued)),
      substrate: round(substrate.cpuMs / runs),
    },
  };
}

/** CPU time of this process (emulators, SDK and Rota share it) since `start`. */
const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

async function rotaThroughput(runs: number) {
  const emulators = await startSubstrate();
  // No counting middleware here: the timed path is exactly Rota's.
  const engine = await createBenchEngine(emulators, { prefix: 'tput-rota' });
  try {
    const now = Date.now();
    const s = dueNowSchedule(now, 1, 'latest');
    await batchPut(
      engine.admin.dynamo,
      engine.tableName,
      Array.from({ length: runs }, () => taskItem(rawTask({ ...s }))),
      8,
    );
    const pool = engine.startExecutors(WORKERS, BATCH_SIZE);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const report = await engine.scheduler.tick();
    const tickMs = performance.now() - started;
    // Fewer runs than tasks is a finding to report, not a reason to discard the whole bench.
    const enqueued = report.enqueued;
    const completed = await engine.waitForTerminal(enqueued, 180_000);
    const ms = performance.now() - started;
    const cpuMs = cpuMsSince(cpu);
    await pool.stop();
    return { ms, completed, cpuMs, tickMs, enqueued };
  } finally {
    engine.close();
    await emulators.stop();
  }
}

/**
 * The same emulators doing the same requests per run with no Rota code: a "tick" reads
 * every due shard once, then (16 in parallel, like the scheduler) updates each task
 * item and sends its message; the same pollers (local/worker-pool.ts, 10 × batches of
 * 10) receive, replay the executor's per-run DynamoDB requests on the task and run
 * items, and delete. Counts come from the unlimited workload; fractions are spread
 * evenly over the runs.
 */
async function substrateThroughput(runs: number, mix: OpMix) {
  const emulators = await startSubstrate();
  // The engine only provides the table, queue and admin clients here; no Rota code runs.
  const engine = await createBenchEngine(emulators, { prefix: 'tput-raw' });
  const dynamo: DynamoDBClient = engine.admin.dynamo;
  const sqs = sqsClient(emulators.sqsEndpoint);
  const queue = await createQueue(engine.admin.sqs, `tput-raw-${Date.now().toString(36)}`);
  const table = engine.tableName;
  try {
    const now = Date.now();
    const s = dueNowSchedule(now, 1, 'latest');
    const tasks = Array.from({ length: runs }, () => rawTask({ ...s }));
    await batchPut(
      dynamo,
      table,
      tasks.map((t) => taskItem(t)),
      8,
    );

    /** How many times op `rate` applies to run `i` (fractions spread evenly). */
    const times = (rate: number, i: number) => Math.floor((i + 1) * rate) - Math.floor(i * rate);
    const payload = 'x'.repeat(200);

    const taskUpdate = (taskID: string, i: number) =>
      dynamo.send(
        new UpdateItemCommand({
          TableName: table,
          Key: marshall(taskKey(taskID)),
          // Like the scheduler's advance: a conditional write that moves the task in the due index.
          UpdateExpression: 'SET #v = #v + :one, latestScheduled = :at, #due = :due, bench = :p',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#v': 'version', '#pk': ATTR.pk, '#due': ATTR.dueAt },
          ExpressionAttributeValues: marshall({
            ':one': 1,
            ':at': new Date(now + i).toISOString(),
            ':due': now + 3_600_000,
            ':p': payload,
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );

    // The executor's requests for one run, by operation.
    const executorRun = async (taskID: string, runID: string, i: number) => {
      const runKey = marshall({ [ATTR.pk]: taskPk(taskID), [ATTR.sk]: runSk(runID) });
      const leaseKey = marshall({ [ATTR.pk]: taskPk(taskID), [ATTR.sk]: 'LEASE#0000' });
      for (let n = times(mix.executor['DynamoDB:GetItem'] ?? 0, i); n > 0; n--) {
        await dynamo.send(
          new GetItemCommand({ TableName: table, Key: marshall(taskKey(taskID)), ConsistentRead: true }),
        );
      }
      for (let n = times(mix.executor['DynamoDB:Query'] ?? 0, i); n > 0; n--) {
        await dynamo.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :p)',
            ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
            ExpressionAttributeValues: marshall({ ':pk': taskPk(taskID), ':p': 'LEASE#' }),
            ConsistentRead: true,
          }),
        );
      }
      for (let n = times(mix.executor['DynamoDB:PutItem'] ?? 0, i); n > 0; n--) {
        await dynamo.send(
          new PutItemCommand({
            TableName: table,
            Item: { ...leaseKey, ...marshall({ token: runID, expiresAtMs: now + 30_000 }) },
          }),
        );
      }
      // The run item is upserted and finished; the last update moves the task's bookkeeping.
      const updates = times(mix.executor['DynamoDB:UpdateItem'] ?? 0, i);
      for (let n = 0; n < updates; n++) {
        const onTask = updates > 1 && n === updates - 1;
        await dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: onTask ? marshall(taskKey(taskID)) : runKey,
            UpdateExpression: 'SET #s = :s, #t = :t, bench = :p',
            ExpressionAttributeNames: { '#s': 'status', '#t': onTask ? 'latestCompleted' : `step${n}` },
            ExpressionAttributeValues: marshall({
              ':s': onTask ? 'active' : 'success',
              ':t': new Date().toISOString(),
              ':p': payload,
            }),
            ReturnValues: onTask ? 'NONE' : 'ALL_NEW',
          }),
        );
      }
      for (let n = times(mix.executor['DynamoDB:DeleteItem'] ?? 0, i); n > 0; n--) {
        await dynamo.send(new DeleteItemCommand({ TableName: table, Key: leaseKey }));
      }
    };

    let done = 0;
    const pool = startWorkerPool({
      sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      workers: WORKERS,
      batchSize: BATCH_SIZE,
      visibilityTimeoutSeconds: 60,
      functionName: 'substrate',
      handler: async (event) => {
        await Promise.all(
          event.Records.map(async (record) => {
            const m = JSON.parse(record.body) as { taskID: string; runID: string; i: number };
            await executorRun(m.taskID, m.runID, m.i);
            done++;
          }),
        );
        return { batchItemFailures: [] };
      },
    });

    const cpu = process.cpuUsage();
    const started = performance.now();
    // "Tick": read every due shard once (the scheduler does this per tick, not per run).
    await Promise.all(
      dueShardKeys(DUE_SHARDS).map((shard) =>
        dynamo.send(
          new QueryCommand({
            TableName: table,
            IndexName: INDEX.due,
            KeyConditionExpression: '#pk = :shard AND #due <= :until',
            ExpressionAttributeNames: { '#pk': ATTR.duePk, '#due': ATTR.dueAt },
            ExpressionAttributeValues: marshall({ ':shard': shard, ':until': now + 60_000 }),
          }),
        ),
      ),
    );
    const sendsPerRun = mix.scheduler['SQS:SendMessageBatch'] ?? 1;
    const perBatch = Math.max(1, Math.min(10, Math.round(1 / sendsPerRun)));
    const scheduleTask = async (i: number) => {
      const task = tasks[i];
      if (!task) return;
      for (let n = times(mix.scheduler['DynamoDB:UpdateItem'] ?? 0, i); n > 0; n--)
        await taskUpdate(task.id, i);
      if (i % perBatch === 0) {
        const entries = tasks.slice(i, i + perBatch).map((t, k) => ({
          Id: String(k),
          MessageBody: JSON.stringify({ taskID: t.id, runID: `run-${i + k}`, i: i + k }),
        }));
        await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }));
      }
    };
    for (let i = 0; i < runs; i += SCHEDULER_PARALLELISM) {
      await Promise.all(Array.from({ length: SCHEDULER_PARALLELISM }, (_, k) => scheduleTask(i + k)));
    }
    const deadline = Date.now() + 180_000;
    while (done < runs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const ms = performance.now() - started;
    const cpuMs = cpuMsSince(cpu);
    await pool.stop();
    return {
      ms,
      cpuMs,
      ops: {
        perTick: { 'DynamoDB:Query': DUE_SHARDS },
        perRun: {
          ...Object.fromEntries(Object.entries(mix.executor).map(([k, v]) => [k, round(v, 2)])),
          'DynamoDB:UpdateItem (scheduler)': round(mix.scheduler['DynamoDB:UpdateItem'] ?? 0, 2),
          'SQS:SendMessageBatch': round(1 / perBatch, 2),
          'SQS:ReceiveMessage, SQS:DeleteMessageBatch': 'one each per batch received',
        },
      },
    };
  } finally {
    sqs.destroy();
    engine.close();
    await emulators.stop();
  }
}
