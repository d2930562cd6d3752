import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventPublisher } from '../../functions/definitions/event-publisher';
import { runRequests } from '../../functions/definitions/run-requests';
import { stores } from '../../lib/composition/core';
import { instantiate } from '../../lib/composition/function';
import { createRota, type Rota } from '../../lib/composition/root';
import { parseConfig } from '../../lib/config';
import type { RunRequestOutcome } from '../../lib/events/run-requests';
import { declareResource } from '../../lib/observability/aws-calls';
import type { Task } from '../../lib/task/model';
import { lambdaContext } from '../../local/lambda-context';
import {
  createTestQueue,
  createTestTable,
  dynamoClient,
  motoUrl,
  requireMoto,
  sqsClient,
  TEST_CLIENT_CONFIG,
  waitFor,
} from '../support/emulators';

/**
 * Events out and run requests in, on moto: the consumer's events reach an SQS queue
 * through a rule on the bus, and a "Run Requested" event put on the bus reaches the
 * run-requests function's queue (moto runs no Lambda, so the test hands the function the
 * message the rule delivered) and starts a run.
 */
const task = (id: string, extra: Partial<Task> = {}): Task => ({
  id,
  type: 'tasks',
  orgID: 'org-a',
  name: 'events',
  description: '',
  status: 'active',
  every: '1h',
  catchUp: 'latest',
  metadata: {
    target: { kind: 'http', url: 'http://127.0.0.1:9/', headers: { authorization: 'Bearer s3cret' } },
  },
  latestScheduled: '2026-01-01T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
  revision: 1,
  ...extra,
});

async function receiveAll(sqs: SQSClient, queueUrl: string, count: number) {
  const bodies: string[] = [];
  await waitFor(
    async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      bodies.push(...(out.Messages ?? []).map((m) => m.Body ?? ''));
      return bodies.length >= count ? bodies : undefined;
    },
    { timeoutMs: 15_000, what: `${count} messages on ${queueUrl}` },
  );
  return bodies.map(
    (b) => JSON.parse(b) as { source: string; 'detail-type': string; detail: Record<string, unknown> },
  );
}

const queueArn = async (sqs: SQSClient, QueueUrl: string) =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes
    ?.QueueArn ?? '';

describe.runIf(motoUrl() !== undefined)('events on moto', () => {
  let dynamo: DynamoDBClient;
  let sqs: SQSClient;
  let bridge: EventBridgeClient;
  let rota: Rota;
  let tableName: string;
  let busName: string;
  let eventsQueue: string;
  let requestsQueue: string;
  let runsQueue: string;

  beforeAll(async () => {
    const moto = requireMoto();
    dynamo = dynamoClient(moto);
    sqs = sqsClient(moto);
    bridge = new EventBridgeClient({ ...TEST_CLIENT_CONFIG, endpoint: moto });
    tableName = await createTestTable(dynamo, 'rota-events');
    runsQueue = await createTestQueue(sqs, 'rota-runs');
    declareResource('runsQueue', runsQueue);
    eventsQueue = await createTestQueue(sqs, 'rota-events-out');
    requestsQueue = await createTestQueue(sqs, 'rota-run-requests');
    busName = `rota-bus-${ulid().toLowerCase()}`;
    await bridge.send(new CreateEventBusCommand({ Name: busName }));
    const route = async (name: string, pattern: unknown, queue: string) => {
      await bridge.send(
        new PutRuleCommand({ Name: name, EventBusName: busName, EventPattern: JSON.stringify(pattern) }),
      );
      await bridge.send(
        new PutTargetsCommand({
          Rule: name,
          EventBusName: busName,
          Targets: [{ Id: 'queue', Arn: await queueArn(sqs, queue) }],
        }),
      );
    };
    await route(`out-${ulid()}`, { source: ['rota'] }, eventsQueue);
    // The construct's rule, as infra/rota-events.ts declares it.
    await route(
      `req-${ulid()}`,
      { source: ['test.requester'], 'detail-type': ['Run Requested'] },
      requestsQueue,
    );
    rota = createRota(
      parseConfig({
        ROTA_TABLE_NAME: tableName,
        ROTA_RUNS_QUEUE_URL: runsQueue,
        ROTA_EVENT_BUS_NAME: busName,
        ROTA_RUN_REQUEST_SOURCES: 'test.requester',
        ROTA_DYNAMODB_ENDPOINT: moto,
        ROTA_SQS_ENDPOINT: moto,
        ROTA_EVENTBRIDGE_ENDPOINT: moto,
      }),
      { credentials: TEST_CLIENT_CONFIG.credentials },
    );
  });

  const rawItem = async (pk: string, sk: string) =>
    (await dynamo.send(new GetItemCommand({ TableName: tableName, Key: { PK: { S: pk }, SK: { S: sk } } })))
      .Item;

  /** A task created and one of its runs started then failed, as the stream records them. */
  const taskAndFailedRun = async (id: string) => {
    await rota.get(stores).tasks.create(task(id));
    const taskItem = await rawItem(`TASK#${id}`, 'TASK');
    const run = { PK: { S: `TASK#${id}` }, SK: { S: 'RUN#r1' }, id: { S: 'r1' }, taskID: { S: id } };
    const common = {
      scheduledFor: { S: '2026-01-01T01:00:00.000Z' },
      attempt: { N: '1' },
      kind: { S: 'scheduled' },
    };
    const started = {
      ...run,
      ...common,
      status: { S: 'started' },
      startedAt: { S: '2026-01-01T01:00:00.100Z' },
    };
    const failed = {
      ...started,
      status: { S: 'failed' },
      error: { S: 'HTTP 500' },
      finishedAt: { S: '2026-01-01T01:00:01.000Z' },
    };
    return [
      { eventName: 'INSERT', dynamodb: { NewImage: taskItem } },
      { eventName: 'INSERT', dynamodb: { NewImage: started } },
      { eventName: 'MODIFY', dynamodb: { OldImage: started, NewImage: failed } },
    ];
  };

  it('puts the stream consumer’s events on the bus, where a rule delivers them', async () => {
    // Prepare: a task and a finished run, as items; the stream records their changes carry.
    const id = ulid().toLowerCase();
    const records = await taskAndFailedRun(id);
    const handler = instantiate(eventPublisher, rota);

    // Act
    const result = await handler({ Records: records } as unknown as DynamoDBStreamEvent);

    // Assess
    expect(result).toEqual({ events: 3 });
    const delivered = await receiveAll(sqs, eventsQueue, 3);
    const byType = new Map(delivered.map((e) => [e.detail.type, e]));
    expect(byType.get('task.created')).toMatchObject({
      source: 'rota',
      'detail-type': 'Task Created',
      detail: { id: `${id}:task.created:1`, orgID: 'org-a', taskID: id, taskType: 'tasks' },
    });
    expect(byType.get('run.started')?.detail).toMatchObject({
      runID: 'r1',
      status: 'started',
      orgID: 'org-a',
    });
    expect(byType.get('run.failed')).toMatchObject({
      'detail-type': 'Run Failed',
      detail: { status: 'failed', error: 'HTTP 500', taskType: 'tasks', attempt: 1 },
    });
    expect(JSON.stringify(delivered)).not.toContain('s3cret');
  });

  it("puts only the operator's eventTypes on the bus", async () => {
    // Prepare: the same changes, through a consumer configured as `eventTypes: ['run.failed']` deploys it.
    const id = ulid().toLowerCase();
    const records = await taskAndFailedRun(id);
    const failuresOnly = createRota(
      parseConfig({
        ROTA_TABLE_NAME: tableName,
        ROTA_EVENT_BUS_NAME: busName,
        ROTA_EVENT_TYPES: 'run.failed',
        ROTA_DYNAMODB_ENDPOINT: requireMoto(),
        ROTA_EVENTBRIDGE_ENDPOINT: requireMoto(),
      }),
      { credentials: TEST_CLIENT_CONFIG.credentials },
    );
    const handler = instantiate(eventPublisher, failuresOnly);

    // Act
    const result = await handler({ Records: records } as unknown as DynamoDBStreamEvent);

    // Assess: one event put and delivered, and nothing after it.
    expect(result).toEqual({ events: 1 });
    const [delivered] = await receiveAll(sqs, eventsQueue, 1);
    expect(delivered).toMatchObject({
      'detail-type': 'Run Failed',
      detail: { taskID: id, status: 'failed' },
    });
    const after = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: eventsQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    expect(after.Messages ?? []).toEqual([]);
  });

  it('runs a task on a "Run Requested" event from a listed source, and drops the others', async () => {
    // Prepare
    const id = ulid().toLowerCase();
    await rota.get(stores).tasks.create(task(id));
    const inactive = ulid().toLowerCase();
    await rota.get(stores).tasks.create(task(inactive, { status: 'inactive' }));
    const put = (Source: string, detail: unknown) =>
      bridge.send(
        new PutEventsCommand({
          Entries: [
            { EventBusName: busName, Source, DetailType: 'Run Requested', Detail: JSON.stringify(detail) },
          ],
        }),
      );
    await put('test.requester', { taskID: id, orgID: 'org-a' });
    await put('test.other', { taskID: id, orgID: 'org-a' });
    const [delivered] = await receiveAll(sqs, requestsQueue, 1);
    const handler = instantiate(runRequests, rota) as (e: unknown, c: Context) => Promise<RunRequestOutcome>;
    const context = lambdaContext('rota-run-requests');

    // Act
    const outcome = await handler(delivered, context);
    const wrongOrg = await handler({ ...delivered, detail: { taskID: id, orgID: 'org-b' } }, context);
    const wrongSource = await handler({ ...delivered, source: 'test.other' }, context);
    const missing = await handler({ ...delivered, detail: { taskID: 'nope', orgID: 'org-a' } }, context);
    const off = await handler({ ...delivered, detail: { taskID: inactive, orgID: 'org-a' } }, context);
    const bad = await handler({ ...delivered, detail: { taskID: id } }, context);

    // Assess: the rule let only the listed source through; the function started one run.
    expect(delivered).toMatchObject({ source: 'test.requester', detail: { taskID: id } });
    expect(outcome.outcome).toBe('started');
    const runID = outcome.outcome === 'started' ? outcome.runID : '';
    const runItem = await rawItem(`TASK#${id}`, `RUN#${runID}`);
    expect(runItem?.kind?.S).toBe('manual');
    expect(runItem?.status?.S).toBe('scheduled');
    const sent = await waitFor(
      async () =>
        (await sqs.send(new ReceiveMessageCommand({ QueueUrl: runsQueue, WaitTimeSeconds: 1 })))
          .Messages?.[0],
      { what: 'the run on the runs queue' },
    );
    expect(JSON.parse(sent.Body ?? '{}')).toMatchObject({ taskID: id, runID, kind: 'manual' });
    expect(wrongOrg).toEqual({ outcome: 'dropped', reason: 'no such task in this org' });
    expect(wrongSource).toEqual({ outcome: 'dropped', reason: 'source not allowed' });
    expect(missing).toEqual({ outcome: 'dropped', reason: 'no such task in this org' });
    expect(off).toEqual({ outcome: 'dropped', reason: 'task is inactive' });
    expect(bad.outcome).toBe('dropped');
  });
});
