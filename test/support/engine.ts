import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { ulid } from 'ulid';
import { z } from 'zod';
import { createDeadLetterHandler } from '../../lib/executor/dead-letter';
import {
  createExecutor,
  type Executor,
  type ExecutorOptions,
  type RunResult,
} from '../../lib/executor/executor';
import { declareResource } from '../../lib/observability/aws-calls';
import { createRunQueue, type QueuedRun, type RunQueue } from '../../lib/queue/run-queue';
import { createReconciler, type ReconcilerDeps } from '../../lib/reconciler/reconciler';
import type { Run, RunMessage } from '../../lib/run/model';
import { createRunService, type RunServiceDeps } from '../../lib/run/run-service';
import type { PlanOptions } from '../../lib/scheduler/plan';
import { createScheduler, type SchedulerDeps } from '../../lib/scheduler/scheduler';
import { createLeaseStore, type LeaseStore } from '../../lib/store/lease-store';
import { createRunStore, type RunStore } from '../../lib/store/run-store';
import { createTaskStore, type TaskStore } from '../../lib/store/task-store';
import {
  createRunnerRegistry,
  defineSystem,
  type RunnableSystem,
  type Runner,
  runnable,
} from '../../lib/systems/system';
import type { RunStatus } from '../../lib/task/model';
import { createTaskService } from '../../lib/task/task-service';
import { startWorkerPool } from '../../local/worker-pool';
import { attributed } from './attribution';
import { type Backend, createTestTable, dynamoClient, sqsClient, waitFor } from './emulators';

/** A test-only system whose runner the test controls through its metadata. */
export const probeMetadata = z.strictObject({
  durationMs: z.number().default(20),
  fail: z.boolean().default(false),
  /** Never finish unless aborted. */
  hang: z.boolean().default(false),
});
export const probeSystem = defineSystem({ type: 'probe', metadata: probeMetadata });

/** What the probe runner observed: starts per run, and live concurrency per task. */
export class Observations {
  readonly starts = new Map<string, number>();
  readonly active = new Map<string, number>();
  readonly maxActive = new Map<string, number>();
  readonly results: RunResult[] = [];
  /** Run IDs in the order their runners started. */
  readonly startOrder: string[] = [];

  startsOf(runID: string) {
    return this.starts.get(runID) ?? 0;
  }
}

export const quietLogger = new Logger({ serviceName: 'rota-test', logLevel: 'SILENT' });

/** The executors' default claim TTL, which is also the open runs' stall grace. */
const CLAIM_TTL_MS = 30_000;

export function probeRunner(observations: Observations): Runner<z.infer<typeof probeMetadata>> {
  return async ({ task, run, signal, log }) => {
    observations.starts.set(run.runID, observations.startsOf(run.runID) + 1);
    observations.startOrder.push(run.runID);
    const active = (observations.active.get(task.id) ?? 0) + 1;
    observations.active.set(task.id, active);
    observations.maxActive.set(task.id, Math.max(observations.maxActive.get(task.id) ?? 0, active));
    try {
      log(`probe run ${run.runID}`);
      await new Promise<void>((resolve, reject) => {
        const timer = task.metadata.hang ? undefined : setTimeout(resolve, task.metadata.durationMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
      if (task.metadata.fail) throw new Error('probe asked to fail');
    } finally {
      observations.active.set(task.id, (observations.active.get(task.id) ?? 1) - 1);
    }
  };
}

/** Keeps what would be sent, so a test can deliver it by hand. */
export function capturingQueue(): RunQueue & { sent: QueuedRun[] } {
  const sent: QueuedRun[] = [];
  return {
    sent,
    enqueue: async (runs) => {
      sent.push(...runs);
    },
    enqueueOne: async (run) => {
      sent.push(run);
    },
  };
}

/** SQS delivers at least once: this queue sends every message twice. */
export function duplicatingQueue(queue: RunQueue): RunQueue {
  return {
    enqueue: async (runs) => {
      await queue.enqueue([...runs, ...runs]);
    },
    enqueueOne: async (run) => {
      await Promise.all([queue.enqueueOne(run), queue.enqueueOne(run)]);
    },
  };
}

/** Stores and a queue wrapped by a test to inject a fault; the engine's own ones otherwise. */
export interface Faults {
  tasks?: TaskStore;
  runs?: RunStore;
  leases?: LeaseStore;
  queue?: RunQueue;
  random?: () => number;
  /** The executor's clock: a test moves it past a claim's TTL instead of sleeping through it. */
  now?: () => number;
}

export interface EngineOptions {
  executor?: Partial<ExecutorOptions>;
  /** More systems the executor can run, beside the probe system. */
  systems?: RunnableSystem[];
  maxReceiveCount?: number;
  duplicateDeliveries?: boolean;
}

/** The real scheduler, executor and stores on one backend, plus helpers to drive them. */
export async function createEngine(backend: Backend, options: EngineOptions = {}) {
  const dynamo: DynamoDBClient = dynamoClient(backend.dynamoEndpoint);
  const sqs: SQSClient = sqsClient(backend.sqsEndpoint);
  const tableName = await createTestTable(dynamo);
  const suffix = ulid().toLowerCase();
  const dlq = await createQueue(sqs, `rota-dlq-${suffix}`);
  const runsQueue = await createQueue(sqs, `rota-runs-${suffix}`, {
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: options.maxReceiveCount ?? 3,
    }),
  });

  declareResource('table', tableName);
  declareResource('runsQueue', runsQueue.url);
  declareResource('deadLetterQueue', dlq.url);

  // The stores stay unattributed (tests read them to assert); the entry points below are
  // attributed to the function that runs them on AWS. The probe system's API would be
  // deployed like the tasks API, so its service calls count as tasks-api's.
  const tasks = createTaskStore({ client: dynamo, tableName, dueShards: 4 });
  const runs = createRunStore({ client: dynamo, tableName, retentionMs: 86_400_000, openShards: 4 });
  const leases = createLeaseStore({ client: dynamo, tableName });
  const rawQueue = createRunQueue({ client: sqs, queueUrl: runsQueue.url });
  const queue = options.duplicateDeliveries ? duplicatingQueue(rawQueue) : rawQueue;
  const taskService = attributed(
    'tasks-api',
    createTaskService({
      tasks,
      onTaskDeleted: async (task) => {
        await runs.deleteAllForTask(task.id);
      },
    }),
  );
  const probes = taskService.forSystem(probeSystem);
  const runServiceDeps = { runs, leases, queue, logger: quietLogger, stallGraceMs: CLAIM_TTL_MS };
  const runService = attributed('tasks-api', createRunService(runServiceDeps).forSystem(probes));
  const observations = new Observations();
  const registry = createRunnerRegistry([
    runnable(probeSystem, probeRunner(observations)),
    ...(options.systems ?? []),
  ]);

  const newExecutor = (overrides: Partial<ExecutorOptions> = {}, faults: Faults = {}): Executor =>
    attributed(
      'executor',
      createExecutor({
        tasks: faults.tasks ?? tasks,
        runs: faults.runs ?? runs,
        leases: faults.leases ?? leases,
        queue: faults.queue ?? queue,
        runners: registry,
        logger: quietLogger,
        random: faults.random,
        now: faults.now,
        options: {
          cancelPollMs: 100,
          waitBaseDelaySeconds: 1,
          waitMaxDelaySeconds: 2,
          ...options.executor,
          ...overrides,
        },
      }),
    );
  /** An executor whose process freezes right after it claims: later writes never land. */
  const never = () => new Promise<never>(() => {});
  const newFrozenExecutor = (overrides: Partial<ExecutorOptions> = {}): Executor =>
    attributed(
      'executor',
      createExecutor({
        tasks,
        runs: { ...runs, heartbeat: never, flushLog: never, finish: never },
        leases: { ...leases, extend: never, release: never },
        queue,
        runners: registry,
        logger: quietLogger,
        options: { ...options.executor, ...overrides },
      }),
    );
  const newScheduler = (
    target: RunQueue = queue,
    plan?: Partial<PlanOptions>,
    more: Partial<SchedulerDeps> = {},
  ) =>
    attributed(
      'scheduler',
      createScheduler({ tasks, queue: target, dueShards: 4, logger: quietLogger, plan, ...more }),
    );
  /** The reconciler with the executors' claim TTL as its grace, unless a test shortens it. */
  const newReconciler = (more: Partial<ReconcilerDeps> = {}) =>
    attributed(
      'reconciler',
      createReconciler({ runs, queue, shards: 4, logger: quietLogger, graceMs: CLAIM_TTL_MS, ...more }),
    );

  /** N executor "Lambdas" racing on the queue, each a poller feeding the real SQS handler. */
  const startExecutors = (count: number, workersEach = 2) => {
    const pools = Array.from({ length: count }, () => {
      const executor = newExecutor();
      return startWorkerPool({
        sqs,
        queueUrl: runsQueue.url,
        queueArn: runsQueue.arn,
        workers: workersEach,
        batchSize: 5,
        visibilityTimeoutSeconds: 30,
        functionName: 'test-executor',
        recordAs: 'executor',
        handler: (event: SQSEvent, context) =>
          processPartialResponse(
            event,
            async (record: SQSRecord) => {
              const parsed = JSON.parse(record.body);
              const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? 1);
              observations.results.push(await executor.execute(parsed, { receiveCount }));
            },
            new BatchProcessor(EventType.SQS),
            { context },
          ),
      });
    });
    return { stop: async () => void (await Promise.all(pools.map((p) => p.stop()))) };
  };

  const startDeadLetterConsumer = () => {
    const handle = attributed('dead-letter', {
      record: createDeadLetterHandler({ runs, tasks, logger: quietLogger }),
    });
    return startWorkerPool({
      sqs,
      queueUrl: dlq.url,
      queueArn: dlq.arn,
      workers: 1,
      functionName: 'test-dead-letter',
      recordAs: 'dead-letter',
      handler: (event, context) =>
        processPartialResponse(event, handle.record, new BatchProcessor(EventType.SQS), { context }),
    });
  };

  const queueDepth = async (url: string) => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const a = out.Attributes ?? {};
    return (
      Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  };

  /** The queue message of a manual run, as the runs API enqueues it. */
  const messageFor = (run: Run): RunMessage => ({
    taskID: run.taskID,
    runID: run.id,
    scheduledFor: run.scheduledFor,
    kind: run.kind,
    attempt: run.attempt,
    waits: 0,
  });
  const waitForStatus = (run: Run, status: RunStatus) =>
    waitFor(async () => ((await runs.get(run.taskID, run.id))?.status === status ? true : undefined), {
      what: `run ${run.id} to be ${status}`,
    });

  return {
    dynamo,
    sqs,
    tableName,
    taskService,
    messageFor,
    waitForStatus,
    createRunService: (more: Partial<RunServiceDeps> = {}) =>
      attributed('tasks-api', createRunService({ ...runServiceDeps, ...more })),
    tasks,
    runs,
    leases,
    queue,
    rawQueue,
    probes,
    runService,
    observations,
    newExecutor,
    newFrozenExecutor,
    newScheduler,
    newReconciler,
    startExecutors,
    startDeadLetterConsumer,
    queues: { runs: runsQueue, dlq },
    queueDepth,
    async close() {
      dynamo.destroy();
      sqs.destroy();
    },
  };
}

export type Engine = Awaited<ReturnType<typeof createEngine>>;

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`could not create ${name}`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}
