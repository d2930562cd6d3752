import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareResource, recorded } from '../../lib/observability/aws-calls';
import { createAwsTargetRunners } from '../../lib/runners/aws-targets';
import type { TargetRunContext } from '../../lib/runners/http-target';
import type { TargetMessage } from '../../lib/runners/target';
import { startFauxqs } from '../../local/emulators';
import { attributed } from '../support/attribution';
import {
  type BackendOption,
  createTestQueue,
  describeEach,
  motoUrl,
  requireMoto,
  sqsClient,
  TEST_CLIENT_CONFIG,
  waitFor,
} from '../support/emulators';

const run = {
  taskID: '0a1b2c3d4e5f6a7b',
  runID: '01HZX3T5J8Q4W2N6R9V7C0B1DE',
  scheduledFor: '2024-05-01T10:00:00Z',
  attempt: 1,
};

function context(): TargetRunContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    run,
    signal: new AbortController().signal,
    timeoutMs: 5000,
    log: (line) => lines.push(line),
    lines,
  };
}

/** The options a mocked `client.send(command, options)` was called with. */
function sendOptions(args: readonly unknown[] | undefined): { abortSignal?: unknown } | undefined {
  return args?.[1] as { abortSignal?: unknown } | undefined;
}

/** The message the runner sent, as a consumer of the queue sees it. */
function messageOf(body: string | undefined): TargetMessage {
  return JSON.parse(body ?? 'null') as TargetMessage;
}

async function receiveOne(sqs: SQSClient, queueUrl: string): Promise<Message> {
  return waitFor(
    async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      return out.Messages?.[0];
    },
    { timeoutMs: 15_000, what: `a message on ${queueUrl}` },
  );
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error('GetQueueAttributes returned no QueueArn');
  return arn;
}

/**
 * The runners as the executor builds them, for the region every test client uses, so
 * their calls count in the IAM contract as the executor's.
 */
const runners = (clients: TargetClients) =>
  attributed(
    'executor',
    createAwsTargetRunners(
      {
        sqs: clients.sqs,
        // Built on first use in the executor (lib/composition/clients.ts); here they exist already.
        sns: async () => clients.sns,
        eventBridge: async () => clients.eventBridge,
        lambda: async () => clients.lambda,
      },
      { region: 'us-east-1' },
    ),
  );

/** A resource a task's target names: the operator lists it (targetQueueArns, …), and the contract checks that. */
function asTarget<T extends string>(id: T): T {
  declareResource('target', id);
  return id;
}

/**
 * A queue as a task names it: its AWS URL. Emulators answer with URLs on their own
 * host; the runner never sends to a queue URL's host, only to the client's endpoint.
 */
function awsQueueUrl(emulatorUrl: string): string {
  const [, account, name] = new URL(emulatorUrl).pathname.split('/');
  return asTarget(`https://sqs.us-east-1.amazonaws.com/${account}/${name}`);
}

/** All four clients on one endpoint: a backend only has to emulate the services a test calls. */
interface TargetClients {
  sqs: SQSClient;
  sns: SNSClient;
  eventBridge: EventBridgeClient;
  lambda: LambdaClient;
}

function clientsFor(endpoint: string): TargetClients {
  return {
    sqs: sqsClient(endpoint),
    sns: recorded(new SNSClient({ ...TEST_CLIENT_CONFIG, endpoint })),
    eventBridge: recorded(new EventBridgeClient({ ...TEST_CLIENT_CONFIG, endpoint })),
    lambda: recorded(new LambdaClient({ ...TEST_CLIENT_CONFIG, endpoint })),
  };
}

const backends: BackendOption<{ endpoint: string; stop(): Promise<void> }>[] = [
  { name: 'fauxqs', available: true, start: () => startFauxqs() },
  {
    name: 'moto',
    available: motoUrl() !== undefined,
    start: async () => ({ endpoint: requireMoto(), stop: async () => {} }),
  },
];

describeEach(backends)('SQS and SNS runners against $name', ({ start }) => {
  let backend: { endpoint: string; stop(): Promise<void> };
  let clients: ReturnType<typeof clientsFor>;

  beforeAll(async () => {
    backend = await start();
    clients = clientsFor(backend.endpoint);
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('sends a TargetMessage to a standard queue', async () => {
    // Prepare
    const queueUrl = await createTestQueue(clients.sqs, 'rota-target');
    const ctx = context();

    // Act
    await runners(clients).sqs(
      { kind: 'sqs', queueUrl: awsQueueUrl(queueUrl), payload: { report: 'daily' } },
      ctx,
    );

    // Assess
    const message = await receiveOne(clients.sqs, queueUrl);
    expect(messageOf(message.Body)).toEqual({
      taskID: run.taskID,
      runID: run.runID,
      scheduledFor: run.scheduledFor,
      payload: { report: 'daily' },
    });
    expect(ctx.lines).toEqual([`SQS message ${message.MessageId} sent to ${awsQueueUrl(queueUrl)}`]);
  });

  it('sends to a FIFO queue with the group and the run ID as deduplication ID', async () => {
    // Prepare
    const created = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: `rota-target-${ulid().toLowerCase()}.fifo`,
        Attributes: { FifoQueue: 'true' },
      }),
    );
    const queueUrl = created.QueueUrl ?? '';

    // Act
    await runners(clients).sqs(
      { kind: 'sqs', queueUrl: awsQueueUrl(queueUrl), messageGroupId: 'reports' },
      context(),
    );

    // Assess
    const message = await receiveOne(clients.sqs, queueUrl);
    expect(message.Attributes?.MessageGroupId).toBe('reports');
    expect(message.Attributes?.MessageDeduplicationId).toBe(run.runID);
    expect(messageOf(message.Body)).toEqual({
      taskID: run.taskID,
      runID: run.runID,
      scheduledFor: run.scheduledFor,
    });
  });

  it('publishes a TargetMessage that reaches a subscribed queue', async () => {
    // Prepare
    const topic = await clients.sns.send(
      new CreateTopicCommand({ Name: `rota-target-${ulid().toLowerCase()}` }),
    );
    const topicArn = asTarget(topic.TopicArn ?? '');
    const queueUrl = await createTestQueue(clients.sqs, 'rota-topic-sub');
    await clients.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: await queueArn(clients.sqs, queueUrl),
      }),
    );
    const ctx = context();

    // Act
    await runners(clients).sns({ kind: 'sns', topicArn, subject: 'rota run', payload: ['a', 1] }, ctx);

    // Assess
    const message = await receiveOne(clients.sqs, queueUrl);
    const envelope = JSON.parse(message.Body ?? '{}') as {
      Message?: string;
      Subject?: string;
      TopicArn?: string;
    };
    expect(envelope.TopicArn).toBe(topicArn);
    expect(envelope.Subject).toBe('rota run');
    expect(messageOf(envelope.Message)).toEqual({
      taskID: run.taskID,
      runID: run.runID,
      scheduledFor: run.scheduledFor,
      payload: ['a', 1],
    });
    expect(ctx.lines).toEqual([
      expect.stringMatching(new RegExp(`^SNS message \\S+ published to ${topicArn}$`)),
    ]);
  });

  it('abandons the send when the run is already aborted', async () => {
    // Prepare
    const queueUrl = await createTestQueue(clients.sqs, 'rota-target');
    const controller = new AbortController();
    controller.abort();
    const ctx = { ...context(), signal: controller.signal };

    // Act
    const error = await runners(clients)
      .sqs({ kind: 'sqs', queueUrl: awsQueueUrl(queueUrl) }, ctx)
      .catch((e: unknown) => e);

    // Assess
    expect((error as Error).name).toBe('AbortError');
    const after = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
    );
    expect(after.Messages ?? []).toHaveLength(0);
    expect(ctx.lines).toHaveLength(0);
  });

  it('fails when the queue does not exist', async () => {
    // Prepare
    const queueUrl = asTarget(
      `https://sqs.us-east-1.amazonaws.com/000000000000/rota-missing-${ulid().toLowerCase()}`,
    );

    // Act
    const error = await runners(clients)
      .sqs({ kind: 'sqs', queueUrl }, context())
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toMatch(/QueueDoesNotExist|NonExistentQueue/);
  });
});

// EventBridge runs only against moto: no npm emulator available here implements
// PutEvents with rule delivery. Without moto, the aws-sdk-client-mock suite
// below covers the request shape and the FailedEntryCount handling.
const moto = motoUrl();
describe.runIf(moto)('EventBridge runner against moto', () => {
  let clients: ReturnType<typeof clientsFor>;
  beforeAll(() => {
    clients = clientsFor(requireMoto());
  });

  it('puts an event that a rule delivers to a queue', async () => {
    // Prepare
    const source = `rota.test.${ulid().toLowerCase()}`;
    const busName = `rota-bus-${ulid().toLowerCase()}`;
    await clients.eventBridge.send(new CreateEventBusCommand({ Name: asTarget(busName) }));
    const queueUrl = await createTestQueue(clients.sqs, 'rota-events');
    const ruleName = `rota-rule-${ulid()}`;
    await clients.eventBridge.send(
      new PutRuleCommand({
        Name: ruleName,
        EventBusName: busName,
        EventPattern: JSON.stringify({ source: [source] }),
      }),
    );
    await clients.eventBridge.send(
      new PutTargetsCommand({
        Rule: ruleName,
        EventBusName: busName,
        Targets: [{ Id: 'queue', Arn: await queueArn(clients.sqs, queueUrl) }],
      }),
    );
    const ctx = context();

    // Act
    await runners(clients).eventbridge(
      { kind: 'eventbridge', eventBusName: busName, source, detailType: 'rota.run', payload: { n: 1 } },
      ctx,
    );

    // Assess
    const message = await receiveOne(clients.sqs, queueUrl);
    const event = JSON.parse(message.Body ?? '{}') as {
      source?: string;
      'detail-type'?: string;
      detail?: unknown;
    };
    expect(event.source).toBe(source);
    expect(event['detail-type']).toBe('rota.run');
    expect(event.detail).toEqual({
      taskID: run.taskID,
      runID: run.runID,
      scheduledFor: run.scheduledFor,
      payload: { n: 1 },
    });
    expect(ctx.lines).toEqual([
      expect.stringMatching(new RegExp(`^EventBridge event \\S+ put on bus ${busName}$`)),
    ]);
  });
});

describe('EventBridge runner (aws-sdk-client-mock)', () => {
  // No npm emulator here runs EventBridge, so without moto the SDK is mocked.
  const eventBridge = new EventBridgeClient(TEST_CLIENT_CONFIG);
  const mock = mockClient(eventBridge);
  const clients = { ...clientsFor('http://127.0.0.1:9'), eventBridge };

  afterAll(() => mock.restore());

  it('puts one entry whose Detail is the TargetMessage', async () => {
    // Prepare
    mock.reset();
    mock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] });
    const ctx = context();

    // Act
    await runners(clients).eventbridge(
      {
        kind: 'eventbridge',
        eventBusName: 'default',
        source: 'rota.test',
        detailType: 'rota.run',
        payload: 'x',
      },
      ctx,
    );

    // Assess
    const [call] = mock.commandCalls(PutEventsCommand);
    const entry = call?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({ EventBusName: 'default', Source: 'rota.test', DetailType: 'rota.run' });
    expect(messageOf(entry?.Detail)).toEqual({
      taskID: run.taskID,
      runID: run.runID,
      scheduledFor: run.scheduledFor,
      payload: 'x',
    });
    expect(sendOptions(call?.args)?.abortSignal).toBe(ctx.signal);
    expect(ctx.lines).toEqual(['EventBridge event ev-1 put on bus default']);
  });

  it('fails the run when the entry was rejected', async () => {
    // Prepare
    mock.reset();
    mock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });

    // Act
    const error = await runners(clients)
      .eventbridge(
        { kind: 'eventbridge', eventBusName: 'default', source: 'rota.test', detailType: 'rota.run' },
        context(),
      )
      .catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toBe('EventBridge rejected the event: InternalFailure: try again');
  });
});

describe('Lambda runner (aws-sdk-client-mock)', () => {
  // No local emulator here runs Lambda Invoke (it needs a container runtime), so the SDK is mocked.
  const lambda = new LambdaClient(TEST_CLIENT_CONFIG);
  const mock = mockClient(lambda);
  const clients = { ...clientsFor('http://127.0.0.1:9'), lambda };
  const payload = (text: string) => Buffer.from(text) as unknown as InvokeCommandOutput['Payload'];

  afterAll(() => mock.restore());

  it('invokes the function synchronously with the TargetMessage', async () => {
    // Prepare
    mock.reset();
    mock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload('{"ok":true}') });
    const ctx = context();

    // Act
    await runners(clients).lambda({ kind: 'lambda', functionName: 'report-builder', payload: { n: 2 } }, ctx);

    // Assess
    const [call] = mock.commandCalls(InvokeCommand);
    const input = call?.args[0].input;
    expect(input).toMatchObject({ FunctionName: 'report-builder', InvocationType: 'RequestResponse' });
    expect(JSON.parse(Buffer.from(input?.Payload as Uint8Array).toString('utf8'))).toEqual({
      taskID: run.taskID,
      runID: run.runID,
      scheduledFor: run.scheduledFor,
      payload: { n: 2 },
    });
    expect(sendOptions(call?.args)?.abortSignal).toBe(ctx.signal);
    expect(ctx.lines).toEqual(['Lambda report-builder invoked: status 200']);
  });

  it('fails the run when the function throws, with the start of its error payload', async () => {
    // Prepare
    mock.reset();
    const errorPayload = JSON.stringify({
      errorType: 'Error',
      errorMessage: 'boom',
      trace: ['x'.repeat(2000)],
    });
    mock
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload(errorPayload) });

    // Act
    const error = await runners(clients)
      .lambda({ kind: 'lambda', functionName: 'report-builder' }, context())
      .catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toBe(`function error: ${errorPayload.slice(0, 1024)}`);
  });
});
