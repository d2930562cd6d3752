import { DescribeTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { planningWorker } from '../../functions/definitions/planning-worker';
import { reconciler } from '../../functions/definitions/reconciler';
import { scheduler } from '../../functions/definitions/scheduler';
import { instantiate } from '../../lib/composition/function';
import { createRota } from '../../lib/composition/root';
import { parseConfig } from '../../lib/config';
import { asFunction, declareResource } from '../../lib/observability/aws-calls';
import type { CoordinatorReport } from '../../lib/scheduler/fan-out';
import { ATTR, dueShard, openShard, taskKey } from '../../lib/store/keys';
import { OPERATOR } from '../../lib/task/task-service';
import { lambdaContext } from '../../local/lambda-context';
import { type Backend, backends, describeEach, TEST_CLIENT_CONFIG } from '../support/emulators';
import { createEngine, type Engine } from '../support/engine';

/**
 * The deployed fan-out (docs/decisions/0014, "Deployed fan-out"), end to end on the
 * emulators: the scheduler's handler as EventBridge invokes it, a planning queue, and the
 * planning worker's handler fed from it the way Lambda's SQS event source feeds it (batch
 * size 1, failed records left to reappear). The engine's task store writes 4 due shards.
 */

const probe = { durationMs: 5, fail: false, hang: false };
const RUNS_PER_TASK = 15;

describeEach(backends())('the deployed scheduler fans out on $name', ({ start }) => {
  let backend: Backend;
  let engine: Engine;

  beforeAll(async () => {
    backend = await start();
    engine = await createEngine(backend);
  });
  afterAll(async () => {
    await engine.close();
    await backend.stop();
  });

  const queue = async (prefix: string, visibilitySeconds = 30) => {
    const { QueueUrl } = await engine.sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}-${ulid().toLowerCase()}`,
        Attributes: { VisibilityTimeout: String(visibilitySeconds) },
      }),
    );
    if (!QueueUrl) throw new Error(`no ${prefix} queue`);
    return QueueUrl;
  };

  /** The queues and root of one deployment; `settings` as the construct would set them. */
  const deployment = async (settings: Record<string, string> = {}) => {
    const runsQueueUrl = await queue('fan-runs');
    const planningQueueUrl = await queue('fan-plan', 1);
    declareResource('runsQueue', runsQueueUrl);
    const rotaWith = (more: Record<string, string>) =>
      createRota(
        parseConfig({
          ROTA_TABLE_NAME: engine.tableName,
          ROTA_RUNS_QUEUE_URL: runsQueueUrl,
          ROTA_PLANNING_QUEUE_URL: planningQueueUrl,
          ROTA_DYNAMODB_ENDPOINT: backend.dynamoEndpoint,
          ROTA_SQS_ENDPOINT: backend.sqsEndpoint,
          ROTA_DUE_SHARDS: '4',
          POWERTOOLS_METRICS_DISABLED: 'true',
          ...settings,
          ...more,
        }),
        { credentials: TEST_CLIENT_CONFIG.credentials },
      );
    const rota = rotaWith({});
    const tick = instantiate(scheduler, rota);
    return {
      runsQueueUrl,
      planningQueueUrl,
      rotaWith,
      tick: async () => (await tick({}, lambdaContext('rota-scheduler', 60_000))) as CoordinatorReport,
      worker: instantiate(planningWorker, rota),
    };
  };

  type Worker = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

  /** One poll of Lambda's event source: receive one job, hand it over, delete it unless reported failed. */
  const deliver = async (queueUrl: string, worker: Worker): Promise<'none' | 'done' | 'failed'> => {
    const got = await asFunction(
      'planning-worker',
      () =>
        engine.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        ),
      'event-source',
    );
    const message = got.Messages?.[0];
    if (!message) return 'none';
    // A batch whose every record failed makes the invocation fail, as on Lambda: nothing is deleted.
    const response = await worker(
      eventOf(message, queueUrl),
      lambdaContext('rota-planning-worker', 30_000),
    ).catch(() => undefined);
    if (!response || response.batchItemFailures.length > 0) return 'failed';
    await asFunction(
      'planning-worker',
      () =>
        engine.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        ),
      'event-source',
    );
    return 'done';
  };

  /** Feeds the worker until the planning queue has been empty for one poll. */
  const drain = async (queueUrl: string, worker: Worker) => {
    const outcomes: string[] = [];
    for (let polls = 0; polls < 30; polls++) {
      const outcome = await deliver(queueUrl, worker);
      if (outcome === 'none') break;
      outcomes.push(outcome);
    }
    return outcomes;
  };

  const depth = async (queueUrl: string) => {
    const out = await engine.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
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

  const createEveryMinute = (count: number, prefix: string) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        engine.probes.create(OPERATOR, {
          orgID: 'org',
          name: `${prefix}-${i}`,
          every: '1m',
          metadata: probe,
        }),
      ),
    );

  const stored = async (taskID: string) =>
    unmarshall(
      (
        await engine.dynamo.send(
          new GetItemCommand({ TableName: engine.tableName, Key: marshall(taskKey(taskID)) }),
        )
      ).Item ?? {},
    );

  /**
   * The runs the tasks' advances account for: each was planned from its first instant up to
   * its new cursor. An every-1m task gets 15, or 16 when its planning fell after the next
   * minute began (the lookahead ends 15 minutes after the plan, not after the creation).
   */
  const plannedRuns = async (tasks: readonly { id: string; nextRunAt?: string | undefined }[]) => {
    let total = 0;
    for (const task of tasks) {
      const planned =
        (Date.parse(String((await stored(task.id)).nextRunAt)) - Date.parse(String(task.nextRunAt))) / 60_000;
      expect(planned, task.id).toBeGreaterThanOrEqual(RUNS_PER_TASK);
      expect(planned, task.id).toBeLessThanOrEqual(RUNS_PER_TASK + 1);
      total += planned;
    }
    return total;
  };

  // Each test plans only its own tasks: those of the one before are paused, pass or fail.
  const made: string[] = [];
  afterEach(async () => {
    for (const id of made.splice(0)) await engine.probes.update(OPERATOR, id, { status: 'inactive' });
  });
  const everyMinute = async (count: number, prefix: string) => {
    const created = await createEveryMinute(count, prefix);
    made.push(...created.map((t) => t.id));
    return created;
  };

  it('sizes the fan-out from the due index count: a small count plans inline, no count fans out over every shard', async () => {
    const deployed = await deployment();
    const created = await everyMinute(6, 'inline');
    const { Table } = await engine.dynamo.send(new DescribeTableCommand({ TableName: engine.tableName }));
    const counted = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'due')?.ItemCount;

    const report = await deployed.tick();
    if (counted !== undefined) {
      // dynalite counts the index (as DynamoDB does, six-hourly): one worker's worth, planned in the tick.
      expect(report).toMatchObject({
        mode: 'inline',
        advanced: 6,
        failed: 0,
        enqueued: await plannedRuns(created),
      });
      expect(await depth(deployed.planningQueueUrl)).toBe(0);
    } else {
      // moto reports no index count: the coordinator cannot size the work, so it takes the safe side.
      expect(report).toEqual({ mode: 'fan-out', jobs: 4 });
      expect(await drain(deployed.planningQueueUrl, deployed.worker)).toEqual([
        'done',
        'done',
        'done',
        'done',
      ]);
    }
    expect(await depth(deployed.runsQueueUrl)).toBe(await plannedRuns(created));
  });

  it('across N shards, the coordinator’s jobs consumed by the worker plan every due task exactly once', async () => {
    const deployed = await deployment({ ROTA_PLANNING_WORKERS: '3' });
    const created = await everyMinute(12, 'fan');
    const shardsUsed = new Set(created.map((t) => dueShard(t.id, 4)));
    expect(shardsUsed.size).toBeGreaterThan(1);

    expect(await deployed.tick()).toEqual({ mode: 'fan-out', jobs: 3 });
    expect(await drain(deployed.planningQueueUrl, deployed.worker)).toEqual(['done', 'done', 'done']);

    // 15 runs per task (16 past a minute's start), none twice: each task was advanced by exactly one job.
    const planned = await plannedRuns(created);
    expect(await depth(deployed.runsQueueUrl)).toBe(planned);
    for (const task of created) {
      const item = await stored(task.id);
      expect(Date.parse(String(item.nextRunAt)) - Date.now(), task.id).toBeGreaterThan(13 * 60_000);
    }
    // A second tick finds nothing due: its jobs plan nothing and send no run.
    expect(await deployed.tick()).toEqual({ mode: 'fan-out', jobs: 3 });
    expect(await drain(deployed.planningQueueUrl, deployed.worker)).toEqual(['done', 'done', 'done']);
    expect(await depth(deployed.runsQueueUrl)).toBe(planned);
  });

  it('drops a stale job: one older than a tick plans nothing and is not retried', async () => {
    const deployed = await deployment();
    const created = await everyMinute(3, 'stale');
    const before = await Promise.all(created.map((t) => stored(t.id)));
    await engine.sqs.send(
      new SendMessageCommand({
        QueueUrl: deployed.planningQueueUrl,
        MessageBody: JSON.stringify({ from: 0, to: 4, tickAt: Date.now() - 61_000 }),
      }),
    );
    expect(await drain(deployed.planningQueueUrl, deployed.worker)).toEqual(['done']);
    expect(await depth(deployed.runsQueueUrl)).toBe(0);
    const after = await Promise.all(created.map((t) => stored(t.id)));
    expect(after.map((item) => item.nextRunAt)).toEqual(before.map((item) => item.nextRunAt));
    expect(await depth(deployed.planningQueueUrl)).toBe(0);
  });

  it('retries a failed job on redelivery, and nothing is lost', async () => {
    const deployed = await deployment({ ROTA_PLANNING_WORKERS: '2' });
    const created = await everyMinute(8, 'retry');
    expect(await deployed.tick()).toEqual({ mode: 'fan-out', jobs: 2 });

    // A worker whose run sends fail (its runs queue is gone): each job it takes fails.
    const brokenQueueUrl = await queue('fan-gone');
    declareResource('runsQueue', brokenQueueUrl);
    await engine.sqs.send(new DeleteQueueCommand({ QueueUrl: brokenQueueUrl }));
    const broken = instantiate(planningWorker, deployed.rotaWith({ ROTA_RUNS_QUEUE_URL: brokenQueueUrl }));
    expect(await deliver(deployed.planningQueueUrl, broken)).toBe('failed');
    expect(await depth(deployed.runsQueueUrl)).toBe(0);

    // The failed job comes back after the visibility timeout; a healthy worker plans both ranges.
    const outcomes: string[] = [];
    for (let polls = 0; outcomes.length < 2 && polls < 20; polls++) {
      const outcome = await deliver(deployed.planningQueueUrl, deployed.worker);
      if (outcome !== 'none') outcomes.push(outcome);
    }
    expect(outcomes).toEqual(['done', 'done']);
    expect(await depth(deployed.runsQueueUrl)).toBe(await plannedRuns(created));
    for (const task of created) {
      const item = await stored(task.id);
      expect(Date.parse(String(item.nextRunAt)) - Date.now(), task.id).toBeGreaterThan(13 * 60_000);
    }
  });

  it('lowering the shard count strands no task: readers cover ROTA_DUE_SHARDS_READ, advances move to the new count', async () => {
    // The tasks sit in 4 shards; the deployment now writes 2 and still reads 4.
    const deployed = await deployment({
      ROTA_DUE_SHARDS: '2',
      ROTA_DUE_SHARDS_READ: '4',
      ROTA_PLANNING_WORKERS: '4',
    });
    const created = await everyMinute(10, 'lowered');
    expect(created.some((t) => Number(dueShard(t.id, 4).slice(4)) >= 2)).toBe(true);

    expect(await deployed.tick()).toEqual({ mode: 'fan-out', jobs: 4 });
    expect(await drain(deployed.planningQueueUrl, deployed.worker)).toHaveLength(4);
    expect(await depth(deployed.runsQueueUrl)).toBe(await plannedRuns(created));
    for (const task of created) {
      expect(['DUE#0', 'DUE#1'], task.id).toContain((await stored(task.id))[ATTR.duePk]);
    }
  });

  it('lowering the shard count strands no open run: the reconciler reads the open shards of ROTA_DUE_SHARDS_READ', async () => {
    const deployed = await deployment({ ROTA_DUE_SHARDS: '2', ROTA_CLAIM_TTL_SECONDS: '3' });
    // The engine's run store opens runs in 4 shards; pick a task whose open run lands above 2.
    const tasks = await everyMinute(8, 'open');
    const task = tasks.find((t) => Number(openShard(t.id, 4).slice(5)) >= 2);
    if (!task) throw new Error('no task in the upper open shards');
    // Overdue at once: its stall time is its due time.
    const run = await engine
      .createRunService({ stallGraceMs: 0 })
      .forSystem(engine.probes)
      .runNow(OPERATOR, task.id);
    const pass = (settings: Record<string, string>) =>
      instantiate(reconciler, deployed.rotaWith(settings))(
        {},
        lambdaContext('rota-reconciler', 60_000),
      ) as Promise<{
        overdue: number;
      }>;

    // Reading the new count's open shards alone, the run is never found.
    expect((await pass({})).overdue).toBe(0);
    // Reading the old count's too, it is, and sent again (its stall time moves on).
    expect((await pass({ ROTA_DUE_SHARDS_READ: '4' })).overdue).toBeGreaterThanOrEqual(1);
    expect((await engine.runs.inspect(task.id, run.id))?.openAt).toBeGreaterThan(Date.now());
  });
});

/** The SQS event Lambda's event source hands the worker for one message. */
function eventOf(message: Message, queueUrl: string): SQSEvent {
  return {
    Records: [
      {
        messageId: message.MessageId ?? '',
        receiptHandle: message.ReceiptHandle ?? '',
        body: message.Body ?? '',
        attributes: {
          ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'scheduler',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').pop()}`,
        awsRegion: 'us-east-1',
      },
    ],
  };
}
