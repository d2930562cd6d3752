import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { resetConfigForTests } from '../lib/config';
import { logger } from '../lib/observability/logger';
import { tableDefinition } from '../lib/store/keys';
import { type Emulator, startDynalite, startFauxqs } from './emulators';
import { createHttpAdapter, lambdaContext, type Mount } from './http-adapter';
import { API_MOUNTS } from './mounts';
import { startTicker, startWorkerPool } from './worker-pool';

export interface LocalOptions {
  /** 0 picks a free port. @default 8080 */
  port?: number;
  /** Keep DynamoDB data on disk between restarts. In memory when absent. */
  dataDir?: string | undefined;
  /** Executor pollers, like the event source's maximumConcurrency. @default 10 */
  workers?: number;
  /** Scheduler tick period. @default 1000 */
  tickMs?: number;
  /** Extra environment for the handlers (set before they load). */
  env?: Record<string, string>;
}

export interface LocalRota {
  url: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export const LOCAL_TABLE = 'rota';
/** Deliveries before a run's message is dead-lettered (the CDK construct uses the same). */
export const MAX_RECEIVE_COUNT = 5;

/**
 * Local mode: the Lambda handlers, unchanged, behind a loopback HTTP server, with
 * DynamoDB from dynalite and SQS from fauxqs, all in this one process.
 */
export async function startLocal(options: LocalOptions = {}): Promise<LocalRota> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // Stopped in order: loops first, then the server, then the emulators they talk to.
  const stoppers: (() => Promise<void>)[] = [];
  const emulators: Emulator[] = [];
  const stopAll = async () => {
    for (const stop of stoppers) await stop();
    await Promise.all(emulators.map((e) => e.stop()));
  };
  try {
    const dynamo = await startDynalite({ path: options.dataDir });
    emulators.push(dynamo);
    const sqs = await startFauxqs();
    emulators.push(sqs);

    const queues = await createQueues(sqs.endpoint);
    const env: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ROTA_TABLE_NAME: LOCAL_TABLE,
      ROTA_DYNAMODB_ENDPOINT: dynamo.endpoint,
      ROTA_SQS_ENDPOINT: sqs.endpoint,
      ROTA_RUNS_QUEUE_URL: queues.runs.url,
      // EMF metrics would only print to stdout here; CloudWatch reads them on AWS.
      POWERTOOLS_METRICS_DISABLED: 'true',
      // Local mode runs against your own machine: loopback targets are allowed here, and
      // refused on AWS unless the operator opens them.
      ROTA_ALLOWED_TARGET_HOSTS: 'localhost,127.0.0.1,::1',
      ...options.env,
    };
    Object.assign(process.env, env);
    resetConfigForTests();

    const { runtime } = await import('../lib/runtime');
    await ensureTable(runtime().dynamo, LOCAL_TABLE);

    const mounts: Mount[] = await Promise.all(
      API_MOUNTS.map(async ({ prefix, load }) => ({ prefix, handler: (await load()).handler })),
    );
    const logError = (what: string) => (error: unknown) => logger.error(what, { error });
    const executor = (await import('../functions/executor')).handler;
    const deadLetter = (await import('../functions/dead-letter')).handler;
    const scheduler = (await import('../functions/scheduler')).handler;
    const loops = [
      startTicker(
        () => scheduler({}, lambdaContext('rota-scheduler')),
        options.tickMs ?? 1000,
        logError('scheduler tick failed'),
      ),
      startWorkerPool({
        sqs: runtime().sqs,
        queueUrl: queues.runs.url,
        queueArn: queues.runs.arn,
        handler: executor,
        workers: options.workers ?? 10,
        functionName: 'rota-executor',
        timeoutMs: 300_000,
        onError: logError('executor poll failed'),
      }),
      startWorkerPool({
        sqs: runtime().sqs,
        queueUrl: queues.dlq.url,
        queueArn: queues.dlq.arn,
        handler: deadLetter,
        workers: 1,
        functionName: 'rota-dead-letter',
        onError: logError('dead-letter poll failed'),
      }),
    ];
    stoppers.unshift(async () => {
      await Promise.all(loops.map((loop) => loop.stop()));
    });

    const server = createServer(createHttpAdapter(mounts));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, '127.0.0.1', () => resolve());
    });
    stoppers.push(() => closeServer(server));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      env,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function createQueues(endpoint: string) {
  const sqs = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    useQueueUrlAsEndpoint: false,
  });
  const create = async (name: string, attributes: Record<string, string> = {}) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error(`could not create queue ${name}`);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
  };
  const dlq = await create('rota-runs-dlq');
  const runs = await create('rota-runs', {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: MAX_RECEIVE_COUNT }),
  });
  sqs.destroy();
  return { runs, dlq };
}

async function ensureTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    await client.send(new CreateTableCommand(tableDefinition(name)));
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
