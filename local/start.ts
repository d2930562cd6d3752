import { mkdirSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { buildConsolePage } from '../infra/console';
import { PUBLIC_GET_PATHS } from '../lib/auth/model';
import { dynamoDbClient, sqsClient } from '../lib/composition/clients';
import { instantiate } from '../lib/composition/function';
import { createRota, type Rota } from '../lib/composition/root';
import { parseConfig, type RotaConfig } from '../lib/config';
import { checkNeeds } from '../lib/function-config';
import { declareResource } from '../lib/observability/aws-calls';
import { logger } from '../lib/observability/logger';
import { ATTR, tableDefinition } from '../lib/store/keys';
import { SYSTEMS } from '../lib/systems/registry';
import { startBundleHost } from './bundles';
import { LOCAL_CREDENTIALS, LOCAL_TABLE, localSettings } from './config';
import { type Emulator, startDynalite, startFauxqs } from './emulators';
import { createEventStreams, type EventStreams } from './event-stream';
import { createLocalEvents, type LocalEvents } from './events';
import { externalEmulator, portOfEndpoint } from './external-emulators';
import { type AuthorizerHandler, createHttpAdapter, type HttpHandler } from './http-adapter';
import { lambdaContext } from './lambda-context';
import { API_MOUNTS, FUNCTION_DEFINITIONS, type HandlerLoader } from './mounts';
import { type SqsHandler, startTicker, startWorkerPool, type WorkerPool } from './worker-pool';
import { startWriteHook } from './write-hook';

export { LOCAL_TABLE };

export interface LocalOptions {
  /** 0 picks a free port. @default 8080 */
  port?: number;
  /** Keep the table and the runs queue on disk between restarts. In memory when absent. */
  dataDir?: string | undefined;
  /** Executor pollers, like the event source's maximumConcurrency. @default 10 */
  workers?: number;
  /**
   * The executor event source's batching window (`executorBatchingWindow`), in ms: the bench
   * sets the deployed one. @default 0, the construct's default
   */
  executorBatchingWindowMs?: number;
  /** Scheduler tick period. @default 1000 */
  tickMs?: number;
  /**
   * `--allowed-target-hosts`: hosts targets may reach though private (comma-separated,
   * or `none`). @default ROTA_ALLOWED_TARGET_HOSTS from `inherit`, else loopback
   */
  allowedTargetHosts?: string | undefined;
  /** How often the reconciler re-sends open runs that stopped moving (also once at start). @default 5000 */
  reconcileMs?: number;
  /** Rota settings for this start (`ROTA_BOOTSTRAP_TOKEN`, …); they win over local mode's own and `inherit`. */
  env?: Record<string, string>;
  /**
   * The environment local mode was started from (`npm start` passes its shell's): the
   * Rota settings in it apply where local mode sets none. @default none
   */
  inherit?: Readonly<Record<string, string | undefined>>;
  /**
   * Run the esbuild bundles the CDK assets are built from (scripts/bundle.ts builds them
   * first, into dist/functions) instead of the TypeScript sources.
   * @default false
   */
  bundles?: boolean;
  /**
   * `--dynamodb-endpoint`: a DynamoDB someone else runs (DynamoDB Local, LocalStack,
   * moto_server), used instead of the embedded dynalite. Local mode creates its table
   * there (indexes, TTL) when missing, and reuses it when present.
   */
  dynamodbEndpoint?: string | undefined;
  /** `--sqs-endpoint`: an SQS someone else runs, used instead of fauxqs; the queues are created when missing. */
  sqsEndpoint?: string | undefined;
  /** How often an idle `GET /api/v2/events` stream sends its `: keep-alive` comment. @default 15000 */
  eventHeartbeatMs?: number;
  /** `--allow-remote-emulators`: the two endpoints above may be other hosts than loopback. @default false */
  allowRemoteEmulators?: boolean | undefined;
}

export interface LocalRota {
  url: string;
  /** Local mode's settings, as the variables they were parsed from (and the bundles' environment). */
  env: Record<string, string>;
  /** The configuration object local mode built its composition root from. */
  config: RotaConfig;
  /**
   * The operator token, when this start generated it (no ROTA_BOOTSTRAP_TOKEN and no
   * earlier one in the data dir). It is kept nowhere: show it once.
   */
  generatedOperatorToken?: string | undefined;
  /** Run messages being handled right now. */
  inFlight(): number;
  /** Rota's events, derived from the table's writes as the stream consumer derives them on AWS. */
  events: LocalEvents;
  /** The `GET /api/v2/events` streams open now. */
  openEventStreams(): number;
  /**
   * Stops gracefully: no more ticks or polls, in-flight runs get up to `graceMs` to
   * finish (what is left resumes after the next start), then the server and the
   * emulators close. Resolves to whether every in-flight run finished in time.
   */
  stop(graceMs?: number): Promise<boolean>;
}

/** Deliveries before a run's message is dead-lettered (the CDK construct uses the same). */
export const MAX_RECEIVE_COUNT = 5;

/** What a start has opened, closed in order: the server, then the loops, then the emulators they talk to. */
interface Opened {
  stoppers: ((graceMs: number) => Promise<boolean>)[];
  emulators: Emulator[];
}

/**
 * Local mode: the Lambda handlers, unchanged, behind a loopback HTTP server, with
 * DynamoDB from dynalite and SQS from fauxqs, all in this one process. Its settings are
 * parsed once into a config object, and every handler is built from one composition
 * root made from it (or, with `bundles`, run from its bundle with those settings as its
 * environment); this process's own environment is read (`inherit`), never written.
 */
export async function startLocal(options: LocalOptions = {}): Promise<LocalRota> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const opened: Opened = { stoppers: [], emulators: [] };
  const stop = (graceMs = Number.POSITIVE_INFINITY) => stopAll(opened, graceMs);
  try {
    const { dynamo, sqs, events } = await startEmulators(options, opened);
    // Listening before the handlers load: the API's own port is one no target may reach.
    const streams = createEventStreams({
      events,
      resourceOf: SYSTEMS.resourceOf,
      heartbeatMs: options.eventHeartbeatMs,
    });
    const server = await listen(options.port ?? 8080, opened, streams);
    const queues = await createQueues(sqs.endpoint);
    // This process's pollers receive and delete on both queues, whatever runs the handlers.
    declareResource('runsQueue', queues.runs.url);
    declareResource('deadLetterQueue', queues.dlq.url);
    const settings = localSettings({
      ...options,
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      runsQueueUrl: queues.runs.url,
      ownPorts: [
        portOfEndpoint(dynamo.endpoint),
        portOfEndpoint(dynamo.target),
        portOfEndpoint(sqs.endpoint),
        server.port,
      ],
    });
    const rota = createRota(parseConfig(settings.variables), { credentials: LOCAL_CREDENTIALS });
    await ensureTable(rota.get(dynamoDbClient), LOCAL_TABLE, { ttl: Boolean(options.dynamodbEndpoint) });
    // The console page the meta-api serves at GET / (the bundles carry their own copy).
    if (!options.bundles) buildConsolePage();
    const load = options.bundles ? await bundleLoader(settings.variables, opened) : sourceLoader(rota);
    const executors = await startEngine(load, rota, queues, options, opened);
    server.serve(await apiListener(load, streams));
    return {
      url: `http://127.0.0.1:${server.port}`,
      env: settings.variables,
      config: rota.config,
      generatedOperatorToken: settings.generatedOperatorToken,
      inFlight: () => executors.inFlight(),
      events,
      openEventStreams: streams.openCount,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function stopAll(opened: Opened, graceMs: number): Promise<boolean> {
  let drained = true;
  for (const stop of opened.stoppers) drained = (await stop(graceMs)) && drained;
  await Promise.all(opened.emulators.map((e) => e.stop()));
  return drained;
}

/** The embedded dynalite and fauxqs, or the external endpoints the options name (checked first, before anything starts). */
async function startEmulators(options: LocalOptions, opened: Opened) {
  const { dataDir, allowRemoteEmulators: allowRemote } = options;
  const external = {
    dynamo: options.dynamodbEndpoint
      ? externalEmulator('dynamodb', options.dynamodbEndpoint, { allowRemote })
      : undefined,
    sqs: options.sqsEndpoint ? externalEmulator('sqs', options.sqsEndpoint, { allowRemote }) : undefined,
  };
  const table = external.dynamo ?? (await startDynalite({ path: dataDir }));
  opened.emulators.push(table);
  // Every client reaches the table through the write hook, local mode's DynamoDB stream.
  const events = createLocalEvents(table.endpoint, LOCAL_TABLE);
  const hook = await startWriteHook(table.endpoint, (change) => events.onChange(change));
  opened.emulators.push({
    endpoint: hook.endpoint,
    stop: async () => {
      await hook.stop();
      events.stop();
    },
  });
  const dynamo = { endpoint: hook.endpoint, target: table.endpoint };
  // The queue persists beside the table: queued, delayed and in-flight run messages
  // survive a crash of this process, as they would in SQS.
  const sqs = external.sqs ?? (await startFauxqs({ dataDir: dataDir ? join(dataDir, 'sqs') : undefined }));
  opened.emulators.push(sqs);
  return { dynamo, sqs, events };
}

/** A loopback server that answers 503 until `serve` hands it the API. */
async function listen(port: number, opened: Opened, streams: EventStreams) {
  let listener: RequestListener = (_req, res) =>
    res
      .writeHead(503, { 'content-type': 'application/json; charset=utf-8' })
      .end(JSON.stringify({ code: 'unavailable', message: 'Rota is starting' }));
  const server = createServer((req, res) => listener(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  // Closed first: no new requests while the runs in flight finish.
  opened.stoppers.push(async () => {
    // An event stream never ends by itself: it ends cleanly here, before the sockets close.
    streams.endAll();
    await closeServer(server);
    return true;
  });
  return {
    port: (server.address() as AddressInfo).port,
    serve: (api: RequestListener) => {
      listener = api;
    },
  };
}

/** Each function built from local mode's root, its needs checked against the root's configuration. */
function sourceLoader(rota: Rota): HandlerLoader {
  const built = new Map<string, unknown>();
  return async (name) => {
    const definition = await FUNCTION_DEFINITIONS[name]?.();
    if (!definition) throw new Error(`no function ${name}`);
    if (!built.has(name)) {
      checkNeeds(rota.config, definition.needs, name);
      built.set(name, instantiate(definition, rota));
    }
    return built.get(name);
  };
}

async function bundleLoader(variables: Record<string, string>, opened: Opened): Promise<HandlerLoader> {
  const host = await startBundleHost(variables);
  // After the loops: the runs in flight finish in the worker before it ends.
  opened.stoppers.push(async () => {
    await host.stop();
    return true;
  });
  return host.load;
}

/** The scheduler and the reconciler, as an EventBridge rule invokes them. */
type ScheduledHandler = (event: unknown, context: Context) => Promise<unknown>;

type Queues = Awaited<ReturnType<typeof createQueues>>;

/** The rules that fire the scheduler and the reconciler, and the event sources that feed the executor and the DLQ handler. */
async function startEngine(
  load: HandlerLoader,
  rota: Rota,
  queues: Queues,
  options: LocalOptions,
  opened: Opened,
): Promise<WorkerPool> {
  const logError = (what: string) => (error: unknown) => logger.error(what, { error });
  const scheduler = (await load('scheduler')) as ScheduledHandler;
  const reconciler = (await load('reconciler')) as ScheduledHandler;
  const tickers = [
    startTicker(
      () => scheduler({}, lambdaContext('rota-scheduler')),
      options.tickMs ?? 1000,
      logError('scheduler tick failed'),
    ),
    // Its first pass runs at start: runs left open by a crash move again at once.
    startTicker(
      () => reconciler({}, lambdaContext('rota-reconciler')),
      options.reconcileMs ?? 5000,
      logError('reconciler pass failed'),
    ),
  ];
  // Messages of a process that died come back after this; a live pool keeps extending it.
  const visibilityTimeoutSeconds = Math.max(10, rota.config.ROTA_CLAIM_TTL_SECONDS);
  const pool = { sqs: rota.get(sqsClient), visibilityTimeoutSeconds };
  const executors = startWorkerPool({
    ...pool,
    queueUrl: queues.runs.url,
    queueArn: queues.runs.arn,
    handler: (await load('executor')) as SqsHandler,
    workers: options.workers ?? 10,
    batchingWindowMs: options.executorBatchingWindowMs,
    functionName: 'rota-executor',
    recordAs: 'executor',
    timeoutMs: 300_000,
    onError: logError('executor poll failed'),
  });
  const deadLetters = startWorkerPool({
    ...pool,
    queueUrl: queues.dlq.url,
    queueArn: queues.dlq.arn,
    handler: (await load('dead-letter')) as SqsHandler,
    workers: 1,
    functionName: 'rota-dead-letter',
    recordAs: 'dead-letter',
    onError: logError('dead-letter poll failed'),
  });
  // Ahead of the bundle worker (if any): the handlers in flight still run in it.
  opened.stoppers.splice(1, 0, async (graceMs) => {
    await Promise.all(tickers.map((ticker) => ticker.stop()));
    const drained = await Promise.all([executors, deadLetters].map((p) => p.stop(graceMs)));
    return drained.every(Boolean);
  });
  return executors;
}

/** The HTTP API: each path prefix to its function, behind the same Lambda authorizer as on AWS. */
async function apiListener(load: HandlerLoader, streams: EventStreams): Promise<RequestListener> {
  const mounts = await Promise.all(
    API_MOUNTS.map(async ({ prefix, fn }) => ({ prefix, fn, handler: (await load(fn)) as HttpHandler })),
  );
  const authorizer = (await load('authorizer')) as AuthorizerHandler;
  const publicPaths: readonly string[] = PUBLIC_GET_PATHS;
  return createHttpAdapter(
    mounts,
    {
      authorizer,
      isPublic: (method, path) => (method === 'GET' || method === 'HEAD') && publicPaths.includes(path),
    },
    [streams.route],
  );
}

async function createQueues(endpoint: string) {
  const sqs = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  // An existing queue is used as it is: CreateQueue refuses a name whose attributes differ
  // (an external emulator's queue from an older start), and a restart must not fail on it.
  const existing = async (name: string) => {
    try {
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    } catch (error) {
      if (isMissingQueue(error)) return undefined;
      throw error;
    }
  };
  const create = async (name: string, attributes: Record<string, string> = {}) => {
    const QueueUrl =
      (await existing(name)) ??
      (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
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

const isMissingQueue = (error: unknown) =>
  ['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'].includes((error as Error).name);

/**
 * The table with its indexes, created when missing and left as it is when present. With
 * `ttl` (an external emulator; dynalite has no TTL API) its TTL attribute is switched on
 * too when it is not yet, so expired runs go as they do on AWS.
 */
async function ensureTable(client: DynamoDBClient, name: string, { ttl }: { ttl: boolean }): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    await client.send(new CreateTableCommand(tableDefinition(name)));
    await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: name });
  }
  if (!ttl) return;
  const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
  if (TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED') return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: ATTR.ttl, Enabled: true },
    }),
  );
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
