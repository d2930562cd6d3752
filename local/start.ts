import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { buildConsolePage } from '../infra/console';
import { resetAuthConfigForTests } from '../lib/auth/config';
import { PUBLIC_GET_PATHS } from '../lib/auth/model';
import { resetSecretBoxForTests } from '../lib/auth/secret-box';
import { generateSecretsKey } from '../lib/auth/secrets';
import { generateOperatorToken, sha256Hex } from '../lib/auth/token';
import { resetConfigForTests } from '../lib/config';
import { declareResource } from '../lib/observability/aws-calls';
import { logger } from '../lib/observability/logger';
import { tableDefinition } from '../lib/store/keys';
import { type Emulator, startDynalite, startFauxqs } from './emulators';
import {
  type AuthorizerHandler,
  createHttpAdapter,
  type HttpHandler,
  lambdaContext,
  type Mount,
} from './http-adapter';
import { API_MOUNTS, FUNCTION_SOURCES, type HandlerLoader } from './mounts';
import { localTargetEnv } from './target-policy';
import { type SqsHandler, startTicker, startWorkerPool } from './worker-pool';

export interface LocalOptions {
  /** 0 picks a free port. @default 8080 */
  port?: number;
  /** Keep the table and the runs queue on disk between restarts. In memory when absent. */
  dataDir?: string | undefined;
  /** Executor pollers, like the event source's maximumConcurrency. @default 10 */
  workers?: number;
  /** Scheduler tick period. @default 1000 */
  tickMs?: number;
  /**
   * `--allowed-target-hosts`: hosts targets may reach though private (comma-separated,
   * or `none`). @default ROTA_ALLOWED_TARGET_HOSTS from the shell, else loopback
   */
  allowedTargetHosts?: string | undefined;
  /** How often the reconciler re-sends open runs that stopped moving (also once at start). @default 5000 */
  reconcileMs?: number;
  /** Extra environment for the handlers (set before they load). */
  env?: Record<string, string>;
  /**
   * Run the esbuild bundles the CDK assets are built from (scripts/bundle.ts builds them
   * first, into dist/functions) instead of the TypeScript sources.
   * @default false
   */
  bundles?: boolean;
}

export interface LocalRota {
  url: string;
  env: Record<string, string>;
  /**
   * The operator token, when this start generated it (no ROTA_BOOTSTRAP_TOKEN and no
   * earlier one in the data dir). It is kept nowhere: show it once.
   */
  generatedOperatorToken?: string | undefined;
  /** Run messages being handled right now. */
  inFlight(): number;
  /**
   * Stops gracefully: no more ticks or polls, in-flight runs get up to `graceMs` to
   * finish (what is left resumes after the next start), then the server and the
   * emulators close. Resolves to whether every in-flight run finished in time.
   */
  stop(graceMs?: number): Promise<boolean>;
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
  // Stopped in order: the server, then the loops, then the emulators they talk to.
  const stoppers: ((graceMs: number) => Promise<boolean>)[] = [];
  const emulators: Emulator[] = [];
  const stopAll = async (graceMs = Number.POSITIVE_INFINITY) => {
    let drained = true;
    for (const stop of stoppers) drained = (await stop(graceMs)) && drained;
    await Promise.all(emulators.map((e) => e.stop()));
    return drained;
  };
  try {
    const dynamo = await startDynalite({ path: options.dataDir });
    emulators.push(dynamo);
    // The queue persists beside the table: queued, delayed and in-flight run messages
    // survive a crash of this process, as they would in SQS.
    const sqs = await startFauxqs({ dataDir: options.dataDir ? join(options.dataDir, 'sqs') : undefined });
    emulators.push(sqs);
    // Listening before the handlers load: the API's own port is one no target may reach.
    let serve: RequestListener = (_req, res) =>
      res
        .writeHead(503, { 'content-type': 'application/json; charset=utf-8' })
        .end(JSON.stringify({ code: 'unavailable', message: 'Rota is starting' }));
    const server = createServer((req, res) => serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, '127.0.0.1', () => resolve());
    });
    // Closed first: no new requests while the runs in flight finish.
    stoppers.push(async () => {
      await closeServer(server);
      return true;
    });
    const { port } = server.address() as AddressInfo;

    const queues = await createQueues(sqs.endpoint);
    declareResource('deadLetterQueue', queues.dlq.url);
    const security = localSecurity(options);
    const env: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ROTA_TABLE_NAME: LOCAL_TABLE,
      ROTA_DYNAMODB_ENDPOINT: dynamo.endpoint,
      ROTA_SQS_ENDPOINT: sqs.endpoint,
      ROTA_RUNS_QUEUE_URL: queues.runs.url,
      // The local scheduler ticks every second (the Lambda rule every minute).
      ROTA_SCHEDULER_INTERVAL_SECONDS: String(Math.max(1, Math.round((options.tickMs ?? 1000) / 1000))),
      // EMF metrics would only print to stdout here; CloudWatch reads them on AWS.
      POWERTOOLS_METRICS_DISABLED: 'true',
      // Loopback targets are open here unless the operator closes them; local mode's own
      // ports never are. On AWS loopback is refused unless the operator opens it.
      ...localTargetEnv({
        allowedTargetHosts: options.allowedTargetHosts,
        env: process.env,
        ownPorts: [portOf(dynamo.endpoint), portOf(sqs.endpoint), port],
      }),
      // The same token check as on AWS, run by the HTTP adapter instead of API Gateway.
      ROTA_AUTH_MODE: 'token',
      ...security.env,
      ...options.env,
    };
    Object.assign(process.env, env);
    resetConfigForTests();
    resetAuthConfigForTests();
    resetSecretBoxForTests();

    const { runtime } = await import('../lib/runtime');
    await ensureTable(runtime().dynamo, LOCAL_TABLE);

    // The console page the meta-api serves at GET / (the bundles carry their own copy).
    if (!options.bundles) buildConsolePage();
    const load = options.bundles ? await bundleLoader() : sourceLoader;
    const mounts: Mount[] = await Promise.all(
      API_MOUNTS.map(async ({ prefix, fn }) => ({ prefix, handler: (await load(fn)) as HttpHandler })),
    );
    const logError = (what: string) => (error: unknown) => logger.error(what, { error });
    const executor = (await load('executor')) as SqsHandler;
    const deadLetter = (await load('dead-letter')) as SqsHandler;
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
    const visibilityTimeoutSeconds = Math.max(10, runtime().config.ROTA_CLAIM_TTL_SECONDS);
    const executors = startWorkerPool({
      sqs: runtime().sqs,
      queueUrl: queues.runs.url,
      queueArn: queues.runs.arn,
      handler: executor,
      workers: options.workers ?? 10,
      visibilityTimeoutSeconds,
      functionName: 'rota-executor',
      recordAs: 'executor',
      timeoutMs: 300_000,
      onError: logError('executor poll failed'),
    });
    const pools = [
      executors,
      startWorkerPool({
        sqs: runtime().sqs,
        queueUrl: queues.dlq.url,
        queueArn: queues.dlq.arn,
        handler: deadLetter,
        workers: 1,
        visibilityTimeoutSeconds,
        functionName: 'rota-dead-letter',
        recordAs: 'dead-letter',
        onError: logError('dead-letter poll failed'),
      }),
    ];
    stoppers.push(async (graceMs) => {
      await Promise.all(tickers.map((ticker) => ticker.stop()));
      const drained = await Promise.all(pools.map((pool) => pool.stop(graceMs)));
      return drained.every(Boolean);
    });

    const authorizer = (await load('authorizer')) as AuthorizerHandler;
    const publicPaths: readonly string[] = PUBLIC_GET_PATHS;
    serve = createHttpAdapter(mounts, {
      authorizer,
      isPublic: (method, path) => (method === 'GET' || method === 'HEAD') && publicPaths.includes(path),
    });
    return {
      url: `http://127.0.0.1:${port}`,
      env,
      generatedOperatorToken: security.generatedOperatorToken,
      inFlight: () => executors.inFlight(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The scheduler and the reconciler, as an EventBridge rule invokes them. */
type ScheduledHandler = (event: unknown, context: Context) => Promise<unknown>;

const sourceLoader: HandlerLoader = async (name) => {
  const load = FUNCTION_SOURCES[name];
  if (!load) throw new Error(`no function ${name}`);
  return (await load()).handler;
};

let bundleStarts = 0;

/**
 * Builds every function's bundle, exactly as the CDK assets are built, and loads handlers
 * from them. A bundle keeps its own module state (config, clients), so each start
 * imports fresh instances, read under the environment this start has just set.
 */
async function bundleLoader(): Promise<HandlerLoader> {
  const { bundleAll } = await import('../scripts/bundle');
  const bundles = new Map((await bundleAll()).map((b) => [b.function, b.path]));
  const start = ++bundleStarts;
  return async (name) => {
    const path = bundles.get(name);
    if (!path) throw new Error(`no bundle for ${name}`);
    const module = (await import(`${pathToFileURL(path).href}?start=${start}`)) as { handler?: unknown };
    if (typeof module.handler !== 'function') throw new Error(`the ${name} bundle exports no handler`);
    return module.handler;
  };
}

const OPERATOR_TOKEN_HASH_FILE = 'rota-operator-token.sha256';
const SECRETS_KEY_FILE = 'rota-secrets.key';

/**
 * The operator token and the key that seals secrets in targets. Given ones win. A
 * generated token is kept in the data dir only as its SHA-256 (like every token), so it
 * is shown once; a generated secrets key must be kept whole, or sealed values could
 * not be opened after a restart. Without a data dir both live as long as the process.
 */
function localSecurity(options: LocalOptions): {
  env: Record<string, string>;
  generatedOperatorToken?: string;
} {
  const given = (name: string) => (options.env?.[name] ?? process.env[name] ?? '').trim() || undefined;
  const file = (name: string) => (options.dataDir ? join(options.dataDir, name) : undefined);
  // Local mode seals with its own key even when the shell names a KMS key.
  const env: Record<string, string> = { ROTA_SECRETS_KMS_KEY_ARN: '' };

  const secretsKey = given('ROTA_SECRETS_KEY');
  const keyFile = file(SECRETS_KEY_FILE);
  if (secretsKey) env.ROTA_SECRETS_KEY = secretsKey;
  else if (keyFile && existsSync(keyFile)) env.ROTA_SECRETS_KEY = readFileSync(keyFile, 'utf8').trim();
  else {
    env.ROTA_SECRETS_KEY = generateSecretsKey().toString('base64');
    if (keyFile) writeFileSync(keyFile, `${env.ROTA_SECRETS_KEY}\n`, { mode: 0o600 });
  }

  const token = given('ROTA_BOOTSTRAP_TOKEN');
  const hashFile = file(OPERATOR_TOKEN_HASH_FILE);
  if (token) return { env: { ...env, ROTA_BOOTSTRAP_TOKEN: token, ROTA_BOOTSTRAP_TOKEN_SHA256: '' } };
  if (hashFile && existsSync(hashFile)) {
    const hash = readFileSync(hashFile, 'utf8').trim();
    return { env: { ...env, ROTA_BOOTSTRAP_TOKEN: '', ROTA_BOOTSTRAP_TOKEN_SHA256: hash } };
  }
  const generated = generateOperatorToken();
  if (hashFile) writeFileSync(hashFile, `${sha256Hex(generated)}\n`, { mode: 0o600 });
  return {
    env: { ...env, ROTA_BOOTSTRAP_TOKEN: '', ROTA_BOOTSTRAP_TOKEN_SHA256: sha256Hex(generated) },
    generatedOperatorToken: generated,
  };
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

const portOf = (endpoint: string) => Number(new URL(endpoint).port);

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
