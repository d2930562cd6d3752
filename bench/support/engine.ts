import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { createExecutor, type Executor, type RunResult } from '../../lib/executor/executor';
import { handleRunRecord } from '../../lib/executor/sqs';
import { createRunQueue } from '../../lib/queue/run-queue';
import { createScheduler } from '../../lib/scheduler/scheduler';
import { ATTR, dueShard, orgTypePk, tableDefinition, taskKey } from '../../lib/store/keys';
import { createLeaseStore } from '../../lib/store/lease-store';
import { createRunStore } from '../../lib/store/run-store';
import { createTaskStore } from '../../lib/store/task-store';
import { createRunnerRegistry, defineSystem, runnable } from '../../lib/systems/system';
import type { Task, TaskDefinition } from '../../lib/task/model';
import { createTaskService } from '../../lib/task/task-service';
import { startDynalite, startFauxqs } from '../../local/emulators';
import { startWorkerPool } from '../../local/worker-pool';
import type { RequestCounter, Source } from './counter';
import type { LogMeter } from './log-meter';

/** The emulators every figure runs on, in this process, bound to 127.0.0.1. */
export const EMULATORS = { dynamodb: 'dynalite (in-process)', sqs: 'fauxqs (in-process)' } as const;

export const CLIENT_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
} as const;

/** Rota's default number of `due` index shards (ROTA_DUE_SHARDS). */
export const DUE_SHARDS = 8;

export const silentLogger = new Logger({ serviceName: 'rota-bench', logLevel: 'SILENT' });

export interface Substrate {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  stop(): Promise<void>;
}

export async function startSubstrate(): Promise<Substrate> {
  const [dynamo, sqs] = await Promise.all([startDynalite(), startFauxqs()]);
  return {
    dynamoEndpoint: dynamo.endpoint,
    sqsEndpoint: sqs.endpoint,
    stop: async () => {
      await Promise.all([dynamo.stop(), sqs.stop()]);
    },
  };
}

export const dynamoClient = (endpoint: string) => new DynamoDBClient({ ...CLIENT_CONFIG, endpoint });
export const sqsClient = (endpoint: string) =>
  new SQSClient({ ...CLIENT_CONFIG, endpoint, useQueueUrlAsEndpoint: false });

let tableSeq = 0;
export async function createTable(client: DynamoDBClient, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${tableSeq++}`;
  await client.send(new CreateTableCommand(tableDefinition(name)));
  return name;
}

export async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`could not create queue ${name}`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

/** The bench-only system: a runner that does nothing (or fails, when its metadata says so). */
export const benchMetadata = z.object({ fail: z.boolean().default(false) });
export const benchSystem = defineSystem({ type: 'bench', metadata: benchMetadata });

/** The raw item the task store's create() writes for `task` (marshalled Task + keys + GSI attributes). */
export function taskItem(task: Task, dueShards = DUE_SHARDS) {
  const due =
    task.status === 'active' && task.nextRunAt
      ? { [ATTR.duePk]: dueShard(task.id, dueShards), [ATTR.dueAt]: Date.parse(task.nextRunAt) }
      : {};
  return marshall(
    {
      ...task,
      ...taskKey(task.id),
      [ATTR.orgTypePk]: orgTypePk(task.orgID, task.type),
      [ATTR.orgTypeSk]: task.id,
      ...due,
    },
    { removeUndefinedValues: true },
  );
}

/** BatchWriteItem in chunks of 25, `parallel` requests in flight, retrying unprocessed items. */
export async function batchPut(
  client: DynamoDBClient,
  tableName: string,
  items: ReturnType<typeof taskItem>[],
  parallel = 4,
): Promise<void> {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < items.length; i += 25) {
    chunks.push(items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })));
  }
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      let requests = chunks[next++] ?? [];
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= 10) throw new Error('BatchWriteItem kept returning unprocessed items');
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
        requests = out.UnprocessedItems?.[tableName] ?? [];
        if (requests.length) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export interface EngineOptions {
  counter?: RequestCounter | undefined;
  /** Meters what the executor would write to CloudWatch Logs; without it, it logs nothing. */
  logs?: LogMeter | undefined;
  prefix: string;
}

export interface PoolStats {
  invocations: number;
  records: number;
  handlerMs: number;
}

const TERMINAL = new Set(['success', 'failed', 'canceled', 'dropped', 'duplicate']);

/**
 * The real engine (createScheduler + createExecutor, real stores, real queue) on the
 * emulators, with the bench system. Each role gets its own SDK clients so requests are
 * counted per role: `scheduler`, `executor`, and `eventSource` (the worker pool's
 * ReceiveMessage/DeleteMessageBatch, standing in for Lambda's SQS event source).
 * Setup goes through uncounted `admin` clients.
 */
export async function createBenchEngine(substrate: Substrate, options: EngineOptions) {
  const counter = options.counter;
  // Uncounted: the counter reads each written item before and after its write through it.
  const reader = dynamoClient(substrate.dynamoEndpoint);
  const dyn = (source: Source) => {
    const client = dynamoClient(substrate.dynamoEndpoint);
    return counter && source !== 'admin' ? counter.instrumentDynamo(client, source, reader) : client;
  };
  const sqsFor = (source: Source) => {
    const client = sqsClient(substrate.sqsEndpoint);
    return counter && source !== 'admin' ? counter.instrumentSqs(client, source) : client;
  };
  const admin = { dynamo: dyn('admin'), sqs: sqsFor('admin') };
  const schedulerClients = { dynamo: dyn('scheduler'), sqs: sqsFor('scheduler') };
  const executorClients = { dynamo: dyn('executor'), sqs: sqsFor('executor') };
  const eventSourceSqs = sqsFor('eventSource');

  const tableName = await createTable(admin.dynamo, options.prefix);
  const suffix = `${Date.now().toString(36)}-${tableSeq++}`;
  const dlq = await createQueue(admin.sqs, `${options.prefix}-dlq-${suffix}`);
  const runsQueue = await createQueue(admin.sqs, `${options.prefix}-runs-${suffix}`, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 }),
  });

  const storesOn = (dynamo: DynamoDBClient) => ({
    tasks: createTaskStore({ client: dynamo, tableName, dueShards: DUE_SHARDS }),
    runs: createRunStore({ client: dynamo, tableName, retentionMs: 7 * 86_400_000 }),
    leases: createLeaseStore({ client: dynamo, tableName }),
  });
  const adminStores = storesOn(admin.dynamo);
  const schedulerStores = storesOn(schedulerClients.dynamo);
  const executorStores = storesOn(executorClients.dynamo);

  const results: RunResult[] = [];
  let terminal = 0;
  const registry = createRunnerRegistry([
    runnable(benchSystem, async ({ task }) => {
      if (task.metadata.fail) throw new Error('bench runner asked to fail');
    }),
  ]);
  const baseExecutor = createExecutor({
    ...executorStores,
    queue: createRunQueue({ client: executorClients.sqs, queueUrl: runsQueue.url }),
    runners: registry,
    logger: options.logs?.logger ?? silentLogger,
    onLag: options.logs?.scheduleLag,
  });
  /** The real executor, observed: every result is kept. */
  const executor: Executor = {
    ...baseExecutor,
    execute: async (message, startOptions) => {
      const result = await baseExecutor.execute(message, startOptions);
      results.push(result);
      if (TERMINAL.has(result.outcome)) terminal++;
      return result;
    },
  };
  const scheduler = createScheduler({
    tasks: schedulerStores.tasks,
    queue: createRunQueue({ client: schedulerClients.sqs, queueUrl: runsQueue.url }),
    dueShards: DUE_SHARDS,
    logger: options.logs?.logger ?? silentLogger,
  });

  /** Creates a bench task through the real TaskService, as if it had been created at `createdAt`. */
  const createTask = async (
    definition: Omit<TaskDefinition, 'metadata'> & { metadata?: z.input<typeof benchMetadata> },
    createdAt = Date.now(),
  ) => {
    const service = createTaskService({ tasks: adminStores.tasks, now: () => createdAt }).forSystem(
      benchSystem,
    );
    return service.create({}, { ...definition, metadata: definition.metadata ?? {} });
  };

  const pool: PoolStats = { invocations: 0, records: 0, handlerMs: 0 };
  /**
   * The executor Lambda behind its SQS event source: a pool of pollers (local/worker-pool.ts),
   * each invocation handled as the executor function (functions/definitions/executor.ts) does (Powertools batch processing +
   * lib/executor/sqs.ts). One BatchProcessor per invocation, as in one Lambda sandbox.
   */
  const startExecutors = (workers: number, batchSize = 10, batchingWindowMs = 0) =>
    startWorkerPool({
      sqs: eventSourceSqs,
      queueUrl: runsQueue.url,
      queueArn: runsQueue.arn,
      workers,
      batchSize,
      batchingWindowMs,
      visibilityTimeoutSeconds: 60,
      functionName: 'rota-bench-executor',
      timeoutMs: 60_000,
      handler: async (event: SQSEvent, context) => {
        const started = performance.now();
        const logger = options.logs?.logger ?? silentLogger;
        const work = () =>
          processPartialResponse(
            event,
            (record: SQSRecord) => handleRunRecord(executor, record, context, logger),
            new BatchProcessor(EventType.SQS),
            { context },
          );
        try {
          return await (options.logs ? options.logs.invocation(work) : work());
        } finally {
          pool.invocations++;
          pool.records += event.Records.length;
          pool.handlerMs += performance.now() - started;
        }
      },
      onError: (error) => console.error('bench executor poll failed:', error),
    });

  /** Resolves when `count` runs reached a terminal outcome; false on timeout. */
  const waitForTerminal = async (count: number, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (terminal < count) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    return true;
  };

  return {
    tableName,
    queues: { runs: runsQueue, dlq },
    admin,
    adminStores,
    scheduler,
    executor,
    results,
    pool,
    terminalCount: () => terminal,
    createTask,
    startExecutors,
    waitForTerminal,
    close() {
      for (const c of [
        admin.dynamo,
        admin.sqs,
        schedulerClients.dynamo,
        schedulerClients.sqs,
        executorClients.dynamo,
        executorClients.sqs,
        eventSourceSqs,
      ]) {
        c.destroy();
      }
    },
  };
}

export type BenchEngine = Awaited<ReturnType<typeof createBenchEngine>>;

/** Milliseconds → a readable figure. */
export const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
