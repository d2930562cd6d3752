import { Annotations, CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { SECRETS_ENCRYPTION_CONTEXT } from '../lib/auth/secrets';
import type { TableUse } from '../lib/store/access';
import { SYSTEMS, type SystemRegistry } from '../lib/systems/registry';
import { AUTHORIZER_FUNCTION, apiFunctionSpecs, type EntryFile, workerFunctionSpecs } from './function-specs';
import { RotaAlarms } from './rota-alarms';
import { RotaApi } from './rota-api';
import { RotaEvents } from './rota-events';
import { pascalCase, RotaFunction, suppressTracingWildcard } from './rota-function';
import { RotaQueue, visibilityFor } from './rota-queue';
import { RotaTable } from './rota-table';
import { grantRunTargets } from './run-targets';
import { type Settings, validate } from './settings';
import type { TaskServiceAuthMode, TaskServiceProps } from './task-service-props';

export {
  API_FUNCTIONS,
  type ApiFunctionSpec,
  AUTHORIZER_FUNCTION,
  type BuiltFunction,
  type EntryFile,
  ROTA_FUNCTIONS,
  rotaFunctions,
  UNEXERCISED_GRANTS,
  WORKER_FUNCTIONS,
  type WorkerFunctionSpec,
} from './function-specs';
export { DEFAULT_EXECUTOR_BATCHING_WINDOW } from './settings';
export type { TaskServiceAuthMode, TaskServiceProps } from './task-service-props';

/** What a function needs besides its code: its table uses, and whether it sends runs or touches sealed secrets. */
interface FunctionNeeds {
  name: string;
  entry: EntryFile;
  table: readonly TableUse[];
  enqueue: boolean;
  sealsSecrets?: boolean;
  opensSecrets?: boolean;
  api?: boolean;
  files?: () => Readonly<Record<string, string>>;
}

/** HTTP API gives a Lambda integration at most 30 s; a longer timeout would outlive the caller's request. */
const API_TIMEOUT = Duration.seconds(29);
/** Runs per executor invocation at most; the bench's cost model prices full batches of it (bench/support/aws-model.ts). */
export const EXECUTOR_BATCH_SIZE = 10;
const DEAD_LETTER_TIMEOUT = Duration.seconds(30);
/** Half a one-minute tick: a failed job's redelivery still falls within the tick that sent it. */
const PLANNING_WORKER_TIMEOUT = Duration.seconds(30);

/**
 * Rota on AWS: one DynamoDB table, an SQS runs queue with a DLQ, a scheduler ticked by
 * EventBridge, an executor fed by SQS, and an HTTP API with one function per system.
 * Secure by default: token-authorized API (InfluxDB-style API tokens checked by a Lambda
 * authorizer), encrypted and TLS-only storage, least-privilege roles granted by intent
 * from each function's declared needs, and cdk-nag findings suppressed only where a
 * reason is written next to them.
 *
 * Composed of {@link RotaTable}, two {@link RotaQueue}s, {@link RotaApi} and
 * {@link RotaAlarms}; the functions, their triggers and the secrets live here.
 */
export class TaskService extends Construct {
  readonly table: dynamodb.Table;
  readonly runsQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** The scheduler's fan-out: one job per due-shard range (docs/decisions/0014). */
  readonly planningQueue: sqs.Queue;
  /** Planning jobs that failed three receives; its depth raises an alarm. */
  readonly planningDeadLetterQueue: sqs.Queue;
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  /** Base URL of the API, ending in `/`. */
  readonly apiUrl: string;
  readonly accessLogGroup: logs.LogGroup;
  /** Every function, by name (`tasks-api`, `executor`, …). */
  readonly functions: ReadonlyMap<string, RotaFunction>;
  /** The tick: plans inline when one worker is enough, else the fan-out's coordinator. */
  readonly scheduler: RotaFunction;
  /** Plans the due-shard range of one planning job. */
  readonly planningWorker: RotaFunction;
  readonly executor: RotaFunction;
  readonly deadLetterHandler: RotaFunction;
  /** Sends again the open runs (manual, retries, waiting) that stopped moving. */
  readonly reconciler: RotaFunction;
  /** Reads the table's stream and puts Rota's events on the bus. */
  readonly eventPublisher: RotaFunction;
  /** Runs a task when a "Run Requested" event from a listed source arrives. */
  readonly runRequests: RotaFunction;
  /** The bus Rota's events go to and run requests come from. */
  readonly eventBus: events.IEventBus;
  readonly runRequestRule: events.Rule;
  readonly schedulerRule: events.Rule;
  readonly reconcilerRule: events.Rule;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly authMode: TaskServiceAuthMode;
  /** Seals credentials in stored targets. */
  readonly secretsKey: kms.IKey;
  /** The token authorizer (`token` mode only). */
  readonly authorizer?: RotaFunction;
  /** The operator token (`token` mode only). */
  readonly operatorTokenSecret?: secretsmanager.ISecret;

  private readonly settings: Settings;
  private readonly removalPolicy: RemovalPolicy;
  private readonly logRetention: logs.RetentionDays;
  private readonly rotaTable: RotaTable;
  private readonly runs: RotaQueue;
  private readonly deadLetters: RotaQueue;
  private readonly planning: RotaQueue;
  private readonly environment: Record<string, string>;
  private readonly functionsByName = new Map<string, RotaFunction>();

  constructor(scope: Construct, id: string, props: TaskServiceProps = {}) {
    super(scope, id);
    this.settings = validate(props);
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.authMode = this.settings.authMode;
    this.secretsKey = props.secretsKey ?? props.encryptionKey ?? this.createSecretsKey();

    const storage = { encryptionKey: props.encryptionKey, removalPolicy: this.removalPolicy };
    this.rotaTable = new RotaTable(this, 'Table', storage);
    this.table = this.rotaTable.table;
    ({ runs: this.runs, deadLetters: this.deadLetters } = this.createQueues(storage));
    this.runsQueue = this.runs.queue;
    this.deadLetterQueue = this.deadLetters.queue;
    const planning = this.createPlanningQueues(storage);
    this.planning = planning.jobs;
    this.planningQueue = planning.jobs.queue;
    this.planningDeadLetterQueue = planning.deadLetters.queue;
    this.environment = this.sharedEnvironment(props);

    const systems = props.systems ?? SYSTEMS;
    const apiFunctions = apiFunctionSpecs(systems).map((spec) => ({
      spec,
      fn: this.createFunction({ ...spec, api: true }, API_TIMEOUT),
    }));
    ({
      scheduler: this.scheduler,
      executor: this.executor,
      deadLetterHandler: this.deadLetterHandler,
      reconciler: this.reconciler,
      planningWorker: this.planningWorker,
      eventPublisher: this.eventPublisher,
      runRequests: this.runRequests,
    } = this.createWorkerFunctions(systems));
    if (this.settings.authMode === 'token') {
      const token = this.createTokenAuthorizer(props.operatorTokenSecret);
      this.authorizer = token.authorizer;
      this.operatorTokenSecret = token.secret;
    }
    this.functions = this.functionsByName;

    this.schedulerRule = this.wireScheduler(this.settings.schedulerRate);
    this.wireFanOut();
    this.reconcilerRule = this.wireReconciler();
    this.wireQueueConsumers();
    const wiredEvents = new RotaEvents(this, 'Events', {
      table: this.table,
      publisher: this.eventPublisher,
      runRequests: this.runRequests,
      eventBus: props.eventBus,
      runRequestSources: props.runRequestSources ?? ['rota.run-requests'],
      eventTypes: props.eventTypes,
    });
    this.eventBus = wiredEvents.bus;
    this.runRequestRule = wiredEvents.runRequestRule;
    grantRunTargets(this, this.executor, props, [...this.functionsByName.values()]);
    if (props.influx) this.wireInflux(props.influx);

    this.accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: this.logRetention,
      removalPolicy: this.removalPolicy,
    });
    const api = this.createApi(props);
    this.api = api.api;
    this.stage = api.stage;
    this.apiUrl = api.url;
    for (const { spec, fn } of apiFunctions)
      api.addFunctionRoutes(spec, fn, `${pascalCase(spec.name)}Integration`);

    this.alarms = new RotaAlarms(this, 'Alarms', {
      runsQueue: this.runsQueue,
      deadLetterQueue: this.deadLetterQueue,
      executor: this.executor,
      scheduler: this.scheduler,
      reconciler: this.reconciler,
      planningDeadLetterQueue: this.planningDeadLetterQueue,
      planningWorker: this.planningWorker,
      topic: props.alarmTopic,
    }).alarms;
    this.addOutputs();
  }

  /**
   * Lets `grantee` call the API (`execute-api:Invoke` on every route and stage). Only
   * `authMode: 'iam'` checks this permission; in `token` mode callers need a token.
   */
  grantInvokeApi(grantee: iam.IGrantable): iam.Grant {
    if (this.authMode !== 'iam') {
      Annotations.of(this).addWarningV2(
        '@rota/grant-invoke-api',
        `grantInvokeApi has no effect with authMode '${this.authMode}'; callers need an API token`,
      );
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi()],
    });
  }

  private createQueues(storage: { encryptionKey?: kms.IKey; removalPolicy: RemovalPolicy }) {
    const deadLetters = new RotaQueue(this, 'DeadLetterQueue', {
      ...storage,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: visibilityFor(DEAD_LETTER_TIMEOUT, Duration.seconds(0)),
    });
    const runs = new RotaQueue(this, 'RunsQueue', {
      ...storage,
      visibilityTimeout: visibilityFor(this.settings.executorTimeout, this.settings.executorBatchingWindow),
      // A run waiting for a concurrency lease is re-sent as a new message, so the receive
      // count measures failed deliveries only: five of those mean the run cannot start.
      deadLetterQueue: { queue: deadLetters.queue, maxReceiveCount: 5 },
    });
    return { runs, deadLetters };
  }

  /**
   * Planning jobs are disposable: a job older than one tick is dropped, because the next
   * tick's job covers its shards. So the visibility timeout is the worker's timeout (not
   * six times it): a failed job comes back within the tick that sent it, and one that
   * fails three receives is dead-lettered for the alarm rather than retried for days.
   */
  private createPlanningQueues(storage: { encryptionKey?: kms.IKey; removalPolicy: RemovalPolicy }) {
    const deadLetters = new RotaQueue(this, 'PlanningDeadLetterQueue', {
      ...storage,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(30),
    });
    const jobs = new RotaQueue(this, 'PlanningQueue', {
      ...storage,
      retentionPeriod: Duration.hours(1),
      visibilityTimeout: PLANNING_WORKER_TIMEOUT,
      deadLetterQueue: { queue: deadLetters.queue, maxReceiveCount: 3 },
    });
    return { jobs, deadLetters };
  }

  private createWorkerFunctions(systems: SystemRegistry) {
    const [
      schedulerSpec,
      executorSpec,
      reconcilerSpec,
      deadLetterSpec,
      planningWorkerSpec,
      publisherSpec,
      runRequestsSpec,
    ] = workerFunctionSpecs(systems);
    return {
      // A tick is a few queries and writes per due task; it must end before the next tick.
      scheduler: this.createFunction(schedulerSpec, Duration.minutes(1)),
      // The executor opens sealed credentials just before it calls a target.
      executor: this.createFunction({ ...executorSpec, opensSecrets: true }, this.settings.executorTimeout),
      deadLetterHandler: this.createFunction(deadLetterSpec, DEAD_LETTER_TIMEOUT),
      // A pass is one Query per shard plus a few writes per overdue run; it ends before the next.
      reconciler: this.createFunction(reconcilerSpec, Duration.minutes(1)),
      planningWorker: this.createFunction(planningWorkerSpec, PLANNING_WORKER_TIMEOUT),
      // A stream batch is at most 100 changes, one GetItem per new task and ten PutEvents.
      eventPublisher: this.createFunction(publisherSpec, Duration.seconds(30)),
      runRequests: this.createFunction(runRequestsSpec, Duration.seconds(30)),
    };
  }

  private createApi(props: TaskServiceProps): RotaApi {
    return new RotaApi(this, 'Api', {
      authMode: this.settings.authMode,
      tokenAuthorizer: this.authorizer,
      authorizerCacheTtl: this.settings.authorizerCacheTtl,
      corsAllowOrigins: props.corsAllowOrigins,
      rateLimit: this.settings.apiRateLimit,
      burstLimit: this.settings.apiBurstLimit,
      accessLogGroup: this.accessLogGroup,
    });
  }

  private createSecretsKey(): kms.IKey {
    return new kms.Key(this, 'SecretsKey', {
      description: 'Rota: seals credentials in stored task targets',
      enableKeyRotation: true,
      removalPolicy: this.removalPolicy,
    });
  }

  private sharedEnvironment(props: TaskServiceProps): Record<string, string> {
    const { settings } = this;
    return {
      ROTA_TABLE_NAME: this.table.tableName,
      ROTA_DUE_SHARDS: String(settings.dueShards),
      ROTA_RUN_RETENTION_DAYS: String(settings.runRetentionDays),
      ROTA_SCHEDULER_INTERVAL_SECONDS: String(settings.schedulerRate.toSeconds()),
      ROTA_SCHEDULER_LOOKAHEAD_SECONDS: String(settings.schedulerLookaheadSeconds),
      ...(settings.dueShardsRead === undefined
        ? {}
        : { ROTA_DUE_SHARDS_READ: String(settings.dueShardsRead) }),
      ROTA_ALLOW_PRIVATE_TARGETS: String(props.allowPrivateTargets ?? false),
      ROTA_ALLOWED_TARGET_HOSTS: (props.allowedTargetHosts ?? []).join(','),
      ROTA_MAX_TASKS_PER_ORG: String(settings.maxTasksPerOrg),
    };
  }

  /** A function with exactly the grants its declared needs call for. */
  private createFunction(spec: FunctionNeeds, timeout?: Duration): RotaFunction {
    const usesSecrets = spec.sealsSecrets === true || spec.opensSecrets === true;
    const fn = new RotaFunction(this, pascalCase(spec.name), {
      name: spec.name,
      entry: spec.entry(),
      files: spec.files?.(),
      timeout,
      logRetention: this.logRetention,
      removalPolicy: this.removalPolicy,
      environment: {
        ...this.environment,
        ...(spec.enqueue ? { ROTA_RUNS_QUEUE_URL: this.runsQueue.queueUrl } : {}),
        ...(spec.api ? { ROTA_AUTH_MODE: this.settings.authMode } : {}),
        ...(usesSecrets ? { ROTA_SECRETS_KMS_KEY_ARN: this.secretsKey.keyArn } : {}),
      },
    });
    this.rotaTable.grantTableUse(fn, spec.table);
    if (spec.enqueue) this.runs.grantEnqueue(fn);
    if (spec.sealsSecrets) this.grantSecretsKey(fn, 'kms:GenerateDataKey');
    if (spec.opensSecrets) this.grantSecretsKey(fn, 'kms:Decrypt');
    suppressTracingWildcard(fn);
    this.functionsByName.set(spec.name, fn);
    return fn;
  }

  /** The executor's InfluxDB for Flux tasks: its address, and GetSecretValue on its token only. */
  private wireInflux(influx: NonNullable<TaskServiceProps['influx']>) {
    this.executor.addEnvironment('ROTA_INFLUX_URL', influx.url);
    if (influx.org) this.executor.addEnvironment('ROTA_INFLUX_ORG', influx.org);
    const secret = influx.tokenSecret;
    if (!secret) return;
    this.executor.addEnvironment('ROTA_INFLUX_TOKEN_SECRET_ARN', secret.secretArn);
    this.executor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
      }),
    );
    secret.encryptionKey?.grantDecrypt(this.executor);
  }

  /** The token authorizer's function and the operator token it checks besides stored tokens. */
  private createTokenAuthorizer(given: secretsmanager.ISecret | undefined) {
    const secret = given ?? this.createOperatorTokenSecret();
    // Kept short: the authorizer runs on every uncached request, before the API function.
    const authorizer = this.createFunction(AUTHORIZER_FUNCTION, Duration.seconds(10));
    authorizer.addEnvironment('ROTA_BOOTSTRAP_TOKEN_SECRET_ARN', secret.secretArn);
    // GetSecretValue only (grantRead adds DescribeSecret, which the authorizer never calls),
    // on the secret's full ARN, and Decrypt on its key if it has its own.
    authorizer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
      }),
    );
    secret.encryptionKey?.grantDecrypt(authorizer);
    new CfnOutput(this, 'OperatorTokenSecretArn', {
      value: secret.secretArn,
      description: 'Secrets Manager secret holding the Rota operator token',
    });
    return { authorizer, secret };
  }

  private createOperatorTokenSecret(): secretsmanager.ISecret {
    const secret = new secretsmanager.Secret(this, 'OperatorToken', {
      description: 'Rota operator token: acts on every org; use it to issue org tokens',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: this.removalPolicy,
    });
    NagSuppressions.addResourceSuppressions(secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'The operator token is an API bearer token, not a database credential: rotating it means handing the new value to people, which no rotation Lambda can do. Put a new value with secretsmanager put-secret-value; the authorizer reads it again within five minutes.',
      },
    ]);
    return secret;
  }

  /** Sealing needs only new data keys, opening only Decrypt; both are bound to Rota's encryption context. */
  private grantSecretsKey(fn: RotaFunction, action: 'kms:GenerateDataKey' | 'kms:Decrypt'): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [action],
        resources: [this.secretsKey.keyArn],
        conditions: {
          StringEquals: { 'kms:EncryptionContext:purpose': SECRETS_ENCRYPTION_CONTEXT.purpose },
        },
      }),
    );
  }

  private wireQueueConsumers(): void {
    this.runs.addConsumer(this.executor, {
      batchSize: EXECUTOR_BATCH_SIZE,
      maxBatchingWindow: this.settings.executorBatchingWindow,
      reportBatchItemFailures: true,
      maxConcurrency: this.settings.executorMaxConcurrency,
    });
    this.deadLetters.addConsumer(this.deadLetterHandler, {
      batchSize: 10,
      reportBatchItemFailures: true,
      // Dead letters are rare; the minimum keeps a flood of them from taking account
      // concurrency away from the executor.
      maxConcurrency: 2,
    });
  }

  /**
   * The scheduler sends planning jobs (SendMessage, nothing else) and reads the due index's
   * item count to size the fan-out (DescribeTable, unless the operator fixed the workers);
   * the worker consumes one job at a time and reports failed ones.
   */
  private wireFanOut(): void {
    const { planningWorkers } = this.settings;
    this.scheduler.addEnvironment('ROTA_PLANNING_QUEUE_URL', this.planningQueue.queueUrl);
    this.planning.grantEnqueue(this.scheduler);
    if (planningWorkers === undefined) this.rotaTable.grantDescribe(this.scheduler);
    else this.scheduler.addEnvironment('ROTA_PLANNING_WORKERS', String(planningWorkers));
    this.planning.addConsumer(this.planningWorker, {
      batchSize: 1,
      reportBatchItemFailures: true,
      // Enough to run every range of a tick at once.
      maxConcurrency: Math.max(2, this.settings.dueShardsRead ?? 0, this.settings.dueShards),
    });
  }

  private wireScheduler(rate: Duration): events.Rule {
    // A tick that failed or waited past the next one is stale: the next tick reads the
    // due index afresh and does the same work, and overlapping ticks only race each
    // other's conditional writes. So neither Lambda nor EventBridge retries old ticks.
    this.scheduler.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: rate });
    return new events.Rule(this, 'SchedulerTick', {
      description: 'Rota scheduler tick',
      schedule: events.Schedule.rate(rate),
      targets: [new targets.LambdaFunction(this.scheduler, { retryAttempts: 2, maxEventAge: rate })],
    });
  }

  /**
   * Its own rule and function rather than a step of the scheduler tick: it needs other
   * grants (the open index, a run's claim), its failures never delay scheduling, and it
   * runs every minute whatever the scheduler's rate. A missed pass costs nothing: the
   * next one reads the same overdue runs.
   */
  private wireReconciler(): events.Rule {
    const rate = Duration.minutes(1);
    this.reconciler.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: rate });
    return new events.Rule(this, 'ReconcilerTick', {
      description: 'Rota reconciler: re-sends open runs that stopped moving',
      schedule: events.Schedule.rate(rate),
      targets: [new targets.LambdaFunction(this.reconciler, { retryAttempts: 2, maxEventAge: rate })],
    });
  }

  private addOutputs(): void {
    new CfnOutput(this, 'ApiUrl', { value: this.apiUrl, description: 'Rota HTTP API base URL' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'Rota DynamoDB table' });
    new CfnOutput(this, 'RunsQueueUrl', { value: this.runsQueue.queueUrl, description: 'Rota runs queue' });
  }
}
