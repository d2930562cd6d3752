import { Annotations, CfnOutput, Duration, Names, RemovalPolicy, Token } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpIamAuthorizer,
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { PUBLIC_GET_PATHS } from '../lib/auth/model';
import { SECRETS_ENCRYPTION_CONTEXT } from '../lib/auth/secrets';
import { AUTH_STORE } from '../lib/auth/store';
import { QUERY, type TableAction, type TableUse } from '../lib/store/access';
import { ATTR, tableDefinition } from '../lib/store/keys';
import { LEASE_STORE } from '../lib/store/lease-store';
import { RUN_STORE } from '../lib/store/run-store';
import { TASK_STORE } from '../lib/store/task-store';
import { SYSTEMS, type SystemRegistry } from '../lib/systems/registry';
import type { SystemApi } from '../lib/systems/system';
import { RotaFunction } from './rota-function';

/**
 * How callers authenticate to the HTTP API.
 * - `token`: InfluxDB-style API tokens (`Authorization: Token …`), checked by a Lambda
 *   authorizer; each token belongs to one org and carries read/write permissions per
 *   system. The operator token lives in a Secrets Manager secret the stack creates.
 * - `iam`: API Gateway's IAM (SigV4) authorizer, for service-to-service callers; they
 *   need `execute-api:Invoke` (see `TaskService.grantInvokeApi`) and act as the
 *   operator, on any org.
 * - `none`: no authorizer, and every caller acts as the operator. cdk-nag then reports
 *   AwsSolutions-APIG4 on every route, on purpose: suppress it in your app with your
 *   own reason.
 */
export type TaskServiceAuthMode = 'token' | 'iam' | 'none';

/** One HTTP API system: a function, its routes, and what it may touch. */
export interface ApiFunctionSpec {
  /** Function name, `rota-<name>` in logs and metrics. */
  readonly name: string;
  /** Entry file relative to the Rota root (the same file local mode imports). */
  readonly entry: string;
  /** Every method on this path and below it, behind the API's authorizer. */
  readonly basePath?: string;
  /** GET routes served without authorization (documents and probes only). */
  readonly publicGetPaths?: readonly string[];
  /**
   * What its code does to the table: the uses its stores declare (lib/store/access.ts).
   * The role gets exactly their union, each action confined to the uses' key prefixes.
   */
  readonly table: readonly TableUse[];
  /** Sends to the runs queue (manual runs, retries). */
  readonly enqueue: boolean;
  /** Seals credentials it stores (`kms:GenerateDataKey` on the secrets key). @default false */
  readonly sealsSecrets?: boolean;
}

/** The entry of every system API: one generic handler, deployed once per API. */
export const SYSTEM_API_ENTRY = 'functions/system-api.ts';

/** A registered system's API as the construct deploys it: its function, routes and grants. */
export function apiFunctionSpec(api: SystemApi<never>): ApiFunctionSpec {
  return {
    name: api.name,
    entry: SYSTEM_API_ENTRY,
    basePath: api.basePath,
    table: api.table,
    enqueue: api.enqueue,
    sealsSecrets: api.sealsSecrets ?? false,
  };
}

/** The public documents and probes: not a system, no table access. */
export const META_FUNCTION: ApiFunctionSpec = {
  name: 'meta-api',
  entry: 'functions/meta-api.ts',
  publicGetPaths: [...PUBLIC_GET_PATHS],
  table: [],
  enqueue: false,
};

/** The HTTP API, one function per API of the registered systems (lib/systems/registry.ts). */
export function apiFunctionSpecs(systems: SystemRegistry = SYSTEMS): readonly ApiFunctionSpec[] {
  return [...systems.apis.map(apiFunctionSpec), META_FUNCTION];
}

export const API_FUNCTIONS: readonly ApiFunctionSpec[] = apiFunctionSpecs();

/** The engine's own uses of the table, plus what every registered system's runner declares. */
export const executorTable = (systems: SystemRegistry = SYSTEMS): readonly TableUse[] => [
  TASK_STORE.reads,
  TASK_STORE.completions,
  RUN_STORE.execution,
  LEASE_STORE,
  ...systems.runnerTable,
];

/** The token authorizer; deployed with `authMode: 'token'`. */
export const AUTHORIZER_FUNCTION: WorkerFunctionSpec = {
  name: 'authorizer',
  entry: 'functions/authorizer.ts',
  table: [AUTH_STORE.reads],
  enqueue: false,
};

/** A function with its own trigger: what it runs and what its code does to the table and queue. */
export interface WorkerFunctionSpec {
  readonly name: string;
  readonly entry: string;
  /** @see ApiFunctionSpec.table */
  readonly table: readonly TableUse[];
  readonly enqueue: boolean;
}

/** The engine's functions; each has its own trigger, wired in the construct. */
export const WORKER_FUNCTIONS = [
  { name: 'scheduler', entry: 'functions/scheduler.ts', table: [TASK_STORE.schedule], enqueue: true },
  {
    name: 'executor',
    entry: 'functions/executor.ts',
    table: executorTable(),
    enqueue: true,
  },
  {
    name: 'reconciler',
    entry: 'functions/reconciler.ts',
    table: [RUN_STORE.reconciliation],
    enqueue: true,
  },
  {
    name: 'dead-letter',
    entry: 'functions/dead-letter.ts',
    table: [RUN_STORE.failures, TASK_STORE.completions],
    enqueue: false,
  },
] as const satisfies readonly WorkerFunctionSpec[];

/** Every function the construct deploys; scripts/bundle.ts builds the same list. */
export const ROTA_FUNCTIONS: readonly { readonly name: string; readonly entry: string }[] = [
  ...API_FUNCTIONS,
  ...WORKER_FUNCTIONS,
  AUTHORIZER_FUNCTION,
].map(({ name, entry }) => ({ name, entry }));

/**
 * Grants that no suite exercises, and why each stays. The IAM contract
 * (test/contract/iam.test.ts) lists every grant no recorded call used and fails on any
 * that is not here; it also fails on an entry here that matches no unused grant.
 * `resource` is the role's resource (`runsQueue`, `table TASK#*`, `table/index/due`).
 */
export const UNEXERCISED_GRANTS: readonly {
  readonly functions: readonly string[];
  readonly actions: readonly string[];
  readonly resource: string;
  readonly reason: string;
  /** The suites reach it only when moto runs (KMS, Secrets Manager). */
  readonly needsMoto?: boolean;
}[] = [
  ...(
    [
      ['executor', 'runsQueue'],
      ['dead-letter', 'deadLetterQueue'],
    ] as const
  ).map(([fn, queue]) => ({
    functions: [fn],
    actions: ['sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
    resource: queue,
    reason:
      "Lambda's SQS event source mapping polls with the function's role and needs these (CDK's SqsEventSource grants them); local mode's poller only receives and deletes",
  })),
  {
    functions: ['checks-api', 'notification-endpoints-api'],
    actions: ['kms:GenerateDataKey'],
    resource: 'secretsKey',
    reason:
      'seals credentials with KMS on AWS; the suites seal with the local AES key in local mode, and prove the KMS path (the same lib/auth/secret-box.ts in every sealing API) as tasks-api against moto',
    needsMoto: true,
  },
];

export interface TaskServiceProps {
  /**
   * How long finished runs are kept (DynamoDB TTL); whole days.
   * @default Duration.days(7)
   */
  readonly runRetention?: Duration;

  /**
   * Partitions of the sparse `due` index the scheduler reads in parallel (1–256).
   * @default 8
   */
  readonly dueShards?: number;

  /**
   * Most executor invocations at once: the SQS event source's maximum concurrency
   * (2–1000). This is Rota's worker pool.
   * @default 50
   */
  readonly executorMaxConcurrency?: number;

  /**
   * How often the scheduler ticks; whole minutes. Each tick enqueues the runs due within
   * one interval (with SQS delays for second precision) and treats runs more than two
   * intervals late as missed; both follow this rate through ROTA_SCHEDULER_INTERVAL_SECONDS.
   * @default Duration.minutes(1)
   */
  readonly schedulerRate?: Duration;

  /**
   * Hosts HTTP targets may reach even when they resolve to private addresses.
   * @default []
   */
  readonly allowedTargetHosts?: readonly string[];

  /**
   * Let HTTP targets reach private, loopback and link-local addresses.
   * @default false
   */
  readonly allowPrivateTargets?: boolean;

  /**
   * Retention of every function's log group and of the API access log.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the stateful resources (the table, both queues and the log
   * groups) when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * How callers authenticate to the HTTP API. `token` is the InfluxDB way (org-scoped
   * API tokens, which is what InfluxDB clients send); `iam` suits service-to-service
   * callers, who then act as the operator.
   * @default 'token'
   */
  readonly authMode?: TaskServiceAuthMode;

  /**
   * The systems whose APIs the construct deploys (a function, its routes and its grants
   * each) and whose runners the executor's role covers. Extend the registry to add one.
   * @default every system Rota ships (`SYSTEMS`, lib/systems/registry.ts)
   */
  readonly systems?: SystemRegistry;

  /**
   * How long API Gateway caches the authorizer's answer per `Authorization` header
   * (`token` mode; 0–3600 s). A deactivated or deleted token keeps working this long.
   * @default Duration.seconds(60)
   */
  readonly authorizerCacheTtl?: Duration;

  /**
   * The secret holding the operator token (`token` mode); the authorizer reads it and
   * caches it for five minutes.
   * @default - a new secret with a generated 64-character token
   */
  readonly operatorTokenSecret?: secretsmanager.ISecret;

  /**
   * The key that seals credentials in stored targets (envelope encryption, encryption
   * context `purpose=rota-secrets`). API functions may only generate data keys and the
   * executor may only decrypt them.
   * @default - `encryptionKey` when given, otherwise a new key with rotation enabled
   */
  readonly secretsKey?: kms.IKey;

  /**
   * Most tasks one org may hold, over all systems (ROTA_MAX_TASKS_PER_ORG).
   * @default 1000
   */
  readonly maxTasksPerOrg?: number;

  /**
   * The executor's Lambda timeout; the longest a single run can take. The runs queue's
   * visibility timeout is derived from it.
   * @default Duration.minutes(5)
   */
  readonly executorTimeout?: Duration;

  /**
   * Customer-managed key for the table and both queues. Functions get exactly the key
   * actions their table and queue access needs.
   * @default - AWS-managed encryption: the `aws/dynamodb` key for the table, SQS-managed SSE for the queues
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Lambda functions task targets may invoke (`lambda:InvokeFunction`).
   * @default [] - no statement
   */
  readonly targetLambdaArns?: readonly string[];

  /**
   * SQS queues task targets may send to (`sqs:SendMessage`).
   * @default [] - no statement
   */
  readonly targetQueueArns?: readonly string[];

  /**
   * SNS topics task targets may publish to (`sns:Publish`).
   * @default [] - no statement
   */
  readonly targetTopicArns?: readonly string[];

  /**
   * EventBridge buses task targets may put events on (`events:PutEvents`).
   * @default [] - no statement
   */
  readonly targetEventBusArns?: readonly string[];

  /**
   * Steady-state requests per second across the API (default stage throttling).
   * @default 100
   */
  readonly apiRateLimit?: number;

  /**
   * Burst capacity of the API (default stage throttling).
   * @default 200
   */
  readonly apiBurstLimit?: number;

  /**
   * Origins browsers may call the API from (CORS). Callers authenticate with SigV4
   * headers, never ambient cookies, so an open origin lets a foreign page do nothing it
   * could not do with credentials of its own.
   * @default ['*']
   */
  readonly corsAllowOrigins?: readonly string[];

  /**
   * Topic every alarm notifies.
   * @default - alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Rota on AWS: one DynamoDB table, an SQS runs queue with a DLQ, a scheduler ticked by
 * EventBridge, an executor fed by SQS, and an HTTP API with one function per system.
 * Secure by default: IAM-authorized API, encrypted and TLS-only storage, least-privilege
 * roles, and cdk-nag findings suppressed only where a reason is written next to them.
 */
export class TaskService extends Construct {
  readonly table: dynamodb.Table;
  readonly runsQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  /** Base URL of the API, ending in `/`. */
  readonly apiUrl: string;
  readonly accessLogGroup: logs.LogGroup;
  /** Every function, by name (`tasks-api`, `executor`, …). */
  readonly functions: ReadonlyMap<string, RotaFunction>;
  readonly scheduler: RotaFunction;
  readonly executor: RotaFunction;
  readonly deadLetterHandler: RotaFunction;
  /** Sends again the open runs (manual, retries, waiting) that stopped moving. */
  readonly reconciler: RotaFunction;
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

  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: TaskServiceProps = {}) {
    super(scope, id);
    const settings = validate(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.encryptionKey = props.encryptionKey;
    this.authMode = settings.authMode;
    this.secretsKey =
      props.secretsKey ??
      props.encryptionKey ??
      new kms.Key(this, 'SecretsKey', {
        description: 'Rota: seals credentials in stored task targets',
        enableKeyRotation: true,
        removalPolicy,
      });

    this.table = this.createTable(removalPolicy);

    // Lambda's guidance for an SQS event source: visibility timeout at least six times
    // the function timeout plus the batching window. The slack covers Lambda retrying
    // a throttled invocation while the batch stays invisible, so a run is not
    // redelivered while its first delivery is still running. A crashed executor's
    // message returns after this delay; its lease expires long before that.
    const batchingWindow = Duration.seconds(1);
    const deadLetterTimeout = Duration.seconds(30);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...this.queueEncryption(),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: visibilityFor(deadLetterTimeout, Duration.seconds(0)),
      removalPolicy,
    });
    this.runsQueue = new sqs.Queue(this, 'RunsQueue', {
      ...this.queueEncryption(),
      enforceSSL: true,
      visibilityTimeout: visibilityFor(settings.executorTimeout, batchingWindow),
      // A run waiting for a concurrency lease is re-sent as a new message, so the receive
      // count measures failed deliveries only: five of those mean the run cannot start.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
      removalPolicy,
    });

    const environment: Record<string, string> = {
      ROTA_TABLE_NAME: this.table.tableName,
      ROTA_DUE_SHARDS: String(settings.dueShards),
      ROTA_RUN_RETENTION_DAYS: String(settings.runRetentionDays),
      ROTA_SCHEDULER_INTERVAL_SECONDS: String(settings.schedulerRate.toSeconds()),
      ROTA_ALLOW_PRIVATE_TARGETS: String(props.allowPrivateTargets ?? false),
      ROTA_ALLOWED_TARGET_HOSTS: (props.allowedTargetHosts ?? []).join(','),
      ROTA_MAX_TASKS_PER_ORG: String(settings.maxTasksPerOrg),
    };
    const functions = new Map<string, RotaFunction>();
    const createFunction = (
      spec: {
        name: string;
        entry: string;
        table: readonly TableUse[];
        enqueue: boolean;
        sealsSecrets?: boolean;
        opensSecrets?: boolean;
        api?: boolean;
      },
      timeout?: Duration,
    ) => {
      const usesSecrets = spec.sealsSecrets === true || spec.opensSecrets === true;
      const fn = new RotaFunction(this, pascalCase(spec.name), {
        name: spec.name,
        entry: spec.entry,
        timeout,
        logRetention,
        removalPolicy,
        environment: {
          ...environment,
          ...(spec.enqueue ? { ROTA_RUNS_QUEUE_URL: this.runsQueue.queueUrl } : {}),
          ...(spec.api ? { ROTA_AUTH_MODE: settings.authMode } : {}),
          ...(usesSecrets ? { ROTA_SECRETS_KMS_KEY_ARN: this.secretsKey.keyArn } : {}),
        },
      });
      this.grantTableAccess(fn, spec.table);
      if (spec.enqueue) this.grantEnqueueRuns(fn);
      if (spec.sealsSecrets) this.grantSecretsKey(fn, 'kms:GenerateDataKey');
      if (spec.opensSecrets) this.grantSecretsKey(fn, 'kms:Decrypt');
      this.suppressTracingWildcard(fn);
      functions.set(spec.name, fn);
      return fn;
    };

    // HTTP API gives a Lambda integration at most 30 s; a longer function timeout would
    // only keep working after the caller has been told the request timed out.
    const apiTimeout = Duration.seconds(29);
    const systems = props.systems ?? SYSTEMS;
    const apiFunctions = apiFunctionSpecs(systems).map((spec) => ({
      spec,
      fn: createFunction({ ...spec, api: true }, apiTimeout),
    }));

    const [schedulerSpec, executorSpec, reconcilerSpec, deadLetterSpec] = WORKER_FUNCTIONS;
    // A tick is a few queries and writes per due task; it must end before the next tick.
    this.scheduler = createFunction(schedulerSpec, Duration.minutes(1));
    // The executor opens sealed credentials just before it calls a target.
    this.executor = createFunction(
      { ...executorSpec, table: executorTable(systems), opensSecrets: true },
      settings.executorTimeout,
    );
    this.deadLetterHandler = createFunction(deadLetterSpec, deadLetterTimeout);
    // A pass is one Query per shard plus a few writes per overdue run; it ends before the next.
    this.reconciler = createFunction(reconcilerSpec, Duration.minutes(1));

    let routeAuthorizer: apigw.IHttpRouteAuthorizer;
    if (settings.authMode === 'token') {
      const secret =
        props.operatorTokenSecret ??
        new secretsmanager.Secret(this, 'OperatorToken', {
          description: 'Rota operator token: acts on every org; use it to issue org tokens',
          generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
          removalPolicy,
        });
      if (!props.operatorTokenSecret) {
        NagSuppressions.addResourceSuppressions(secret, [
          {
            id: 'AwsSolutions-SMG4',
            reason:
              'The operator token is an API bearer token, not a database credential: rotating it means handing the new value to people, which no rotation Lambda can do. Put a new value with secretsmanager put-secret-value; the authorizer reads it again within five minutes.',
          },
        ]);
      }
      // Kept short: the authorizer runs on every uncached request, before the API function.
      const authorizer = createFunction(AUTHORIZER_FUNCTION, Duration.seconds(10));
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
      this.authorizer = authorizer;
      this.operatorTokenSecret = secret;
      routeAuthorizer = new HttpLambdaAuthorizer('TokenAuthorizer', authorizer, {
        authorizerName: 'rota-token',
        responseTypes: [HttpLambdaResponseType.SIMPLE],
        identitySource: ['$request.header.Authorization'],
        resultsCacheTtl: settings.authorizerCacheTtl,
      });
      new CfnOutput(this, 'OperatorTokenSecretArn', {
        value: secret.secretArn,
        description: 'Secrets Manager secret holding the Rota operator token',
      });
    } else {
      routeAuthorizer =
        settings.authMode === 'iam' ? new HttpIamAuthorizer() : new apigw.HttpNoneAuthorizer();
    }
    this.functions = functions;

    this.schedulerRule = this.wireScheduler(settings.schedulerRate);
    this.reconcilerRule = this.wireReconciler();
    this.executor.addEventSource(
      new SqsEventSource(this.runsQueue, {
        batchSize: 10,
        maxBatchingWindow: batchingWindow,
        reportBatchItemFailures: true,
        maxConcurrency: settings.executorMaxConcurrency,
      }),
    );
    this.deadLetterHandler.addEventSource(
      new SqsEventSource(this.deadLetterQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        // Dead letters are rare; the minimum keeps a flood of them from taking account
        // concurrency away from the executor.
        maxConcurrency: 2,
      }),
    );
    this.grantRunTargets(this.executor, props);

    const api = this.createApi(props, settings, logRetention, removalPolicy);
    this.api = api.api;
    this.stage = api.stage;
    this.apiUrl = api.stage.url;
    this.accessLogGroup = api.accessLogGroup;
    for (const { spec, fn } of apiFunctions) this.addApiRoutes(spec, fn, routeAuthorizer);

    this.alarms = this.createAlarms(props.alarmTopic);

    new CfnOutput(this, 'ApiUrl', { value: this.apiUrl, description: 'Rota HTTP API base URL' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'Rota DynamoDB table' });
    new CfnOutput(this, 'RunsQueueUrl', { value: this.runsQueue.queueUrl, description: 'Rota runs queue' });
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

  private createTable(removalPolicy: RemovalPolicy): dynamodb.Table {
    // The key design is declared once, in lib/store/keys.ts, and read from there.
    const definition = tableDefinition('rota');
    const attribute = (name: string): dynamodb.Attribute => {
      const type = definition.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
      if (type !== 'S' && type !== 'N' && type !== 'B')
        throw new Error(`TaskService: no type for key ${name}`);
      const types = {
        S: dynamodb.AttributeType.STRING,
        N: dynamodb.AttributeType.NUMBER,
        B: dynamodb.AttributeType.BINARY,
      };
      return { name, type: types[type] };
    };
    const keyOf = (
      schema: { AttributeName?: string; KeyType?: string }[] | undefined,
      kind: 'HASH' | 'RANGE',
    ) => {
      const name = schema?.find((k) => k.KeyType === kind)?.AttributeName;
      return name === undefined ? undefined : attribute(name);
    };
    const partitionKey = keyOf(definition.KeySchema, 'HASH');
    if (!partitionKey) throw new Error('TaskService: the table definition has no partition key');

    const table = new dynamodb.Table(this, 'Table', {
      partitionKey,
      sortKey: keyOf(definition.KeySchema, 'RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ATTR.ttl,
      ...(this.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy,
    });
    for (const index of definition.GlobalSecondaryIndexes ?? []) {
      const indexPartitionKey = keyOf(index.KeySchema, 'HASH');
      if (!index.IndexName || !indexPartitionKey) throw new Error('TaskService: incomplete index definition');
      // The projection comes from the store's declaration too (the due index includes only
      // the scheduling fields), so code and table can never disagree on what an index holds.
      const projection = index.Projection?.ProjectionType;
      table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: indexPartitionKey,
        sortKey: keyOf(index.KeySchema, 'RANGE'),
        ...(projection === 'INCLUDE'
          ? {
              projectionType: dynamodb.ProjectionType.INCLUDE,
              nonKeyAttributes: index.Projection?.NonKeyAttributes ?? [],
            }
          : projection === 'KEYS_ONLY'
            ? { projectionType: dynamodb.ProjectionType.KEYS_ONLY }
            : { projectionType: dynamodb.ProjectionType.ALL }),
      });
    }
    return table;
  }

  private queueEncryption(): Pick<sqs.QueueProps, 'encryption' | 'encryptionMasterKey'> {
    return this.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: this.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
  }

  /**
   * The union of the function's table uses: one statement per set of key prefixes that
   * share the same actions (`dynamodb:LeadingKeys` confines each action to the partitions
   * its uses declare), and Query on exactly the indexes they read.
   */
  private grantTableAccess(fn: RotaFunction, uses: readonly TableUse[]): void {
    const actionsByPrefix = new Map<string, Set<TableAction>>();
    for (const use of uses) {
      for (const prefix of use.keyPrefixes ?? []) {
        const actions = actionsByPrefix.get(prefix) ?? new Set<TableAction>();
        for (const action of use.actions ?? []) actions.add(action);
        actionsByPrefix.set(prefix, actions);
      }
      if ((use.actions ?? []).length > 0 && (use.keyPrefixes ?? []).length === 0) {
        throw new Error(`TaskService: table use "${use.name}" declares actions but no key prefixes`);
      }
    }
    const prefixesByActions = new Map<string, { actions: TableAction[]; prefixes: string[] }>();
    for (const [prefix, actions] of actionsByPrefix) {
      const sorted = [...actions].sort();
      const key = sorted.join(',');
      const group = prefixesByActions.get(key) ?? { actions: sorted, prefixes: [] };
      group.prefixes.push(`${prefix}*`);
      prefixesByActions.set(key, group);
    }
    for (const { actions, prefixes } of prefixesByActions.values()) {
      if (actions.length === 0) continue;
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions,
          resources: [this.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.sort() } },
        }),
      );
    }
    const indexes = [...new Set(uses.flatMap((use) => use.queries ?? []))].sort();
    if (indexes.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [QUERY],
          resources: indexes.map((index) => `${this.table.tableArn}/index/${index}`),
        }),
      );
    }
    if (uses.length > 0 && this.encryptionKey) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [this.encryptionKey.keyArn],
        }),
      );
    }
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

  /** SendMessage also authorizes SendMessageBatch; nothing else is needed to enqueue. */
  private grantEnqueueRuns(fn: RotaFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.runsQueue.queueArn] }),
    );
    if (this.encryptionKey) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [this.encryptionKey.keyArn],
        }),
      );
    }
  }

  /** The executor reaches exactly the AWS targets the operator listed, and nothing when none are. */
  private grantRunTargets(executor: RotaFunction, props: TaskServiceProps): void {
    const grants: [string, readonly string[] | undefined][] = [
      ['lambda:InvokeFunction', props.targetLambdaArns],
      ['sqs:SendMessage', props.targetQueueArns],
      ['sns:Publish', props.targetTopicArns],
      ['events:PutEvents', props.targetEventBusArns],
    ];
    for (const [action, arns] of grants) {
      if (arns && arns.length > 0) {
        executor.addToRolePolicy(new iam.PolicyStatement({ actions: [action], resources: [...arns] }));
      }
    }
  }

  private suppressTracingWildcard(fn: RotaFunction): void {
    NagSuppressions.addResourceSuppressions(
      fn.role ?? fn,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires Resource "*". Every other statement names its resources.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
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

  private createApi(
    props: TaskServiceProps,
    settings: Settings,
    logRetention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ) {
    const api = new apigw.HttpApi(this, 'Api', {
      apiName: Names.uniqueResourceName(this, { maxLength: 128, separator: '-' }),
      description: 'Rota task service',
      // The default stage that HttpApi creates takes no throttling or access log.
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [...(props.corsAllowOrigins ?? ['*'])],
        allowMethods: [
          apigw.CorsHttpMethod.GET,
          apigw.CorsHttpMethod.POST,
          apigw.CorsHttpMethod.PATCH,
          apigw.CorsHttpMethod.PUT,
          apigw.CorsHttpMethod.DELETE,
        ],
        // What SigV4 signing and conditional updates send.
        allowHeaders: [
          'authorization',
          'content-type',
          'if-match',
          'x-amz-date',
          'x-amz-security-token',
          'x-amz-content-sha256',
        ],
        exposeHeaders: ['etag', 'x-platform-error-code'],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      removalPolicy,
    });
    const stage = api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: settings.apiRateLimit, burstLimit: settings.apiBurstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.userArn',
            method: '$context.httpMethod',
            path: '$context.path',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    return { api, stage, accessLogGroup };
  }

  private addApiRoutes(
    spec: ApiFunctionSpec,
    fn: RotaFunction,
    authorizer: apigw.IHttpRouteAuthorizer,
  ): void {
    const integration = new HttpLambdaIntegration(`${pascalCase(spec.name)}Integration`, fn);
    if (spec.basePath) {
      for (const path of [spec.basePath, `${spec.basePath}/{proxy+}`]) {
        this.api.addRoutes({ path, methods: [apigw.HttpMethod.ANY], integration, authorizer });
      }
    }
    for (const path of spec.publicGetPaths ?? []) {
      const routes = this.api.addRoutes({
        path,
        methods: [apigw.HttpMethod.GET],
        integration,
        authorizer: new apigw.HttpNoneAuthorizer(),
      });
      NagSuppressions.addResourceSuppressions(
        routes.map((route) => route.node.defaultChild as apigw.CfnRoute),
        [
          {
            id: 'AwsSolutions-APIG4',
            reason: `GET ${path} is public on purpose: health probes and API clients read it before they hold credentials. It returns a static document, and its function's role has no table or queue access.`,
          },
        ],
      );
    }
  }

  private createAlarms(topic: sns.ITopic | undefined): cloudwatch.Alarm[] {
    const above = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number) =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No data means no messages, no errors, no runs: all healthy.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const alarms = [
      above(
        'DeadLetterQueueDepthAlarm',
        'Rota: run messages are waiting in the dead-letter queue (the dead-letter function is failing or behind)',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        0,
      ),
      above(
        'ExecutorErrorsAlarm',
        'Rota: executor invocations failed',
        this.executor.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        0,
      ),
      above(
        'SchedulerErrorsAlarm',
        'Rota: scheduler ticks failed',
        this.scheduler.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        0,
      ),
      above(
        'ReconcilerErrorsAlarm',
        'Rota: reconciler passes failed (stalled open runs are not being re-sent)',
        this.reconciler.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        0,
      ),
      above(
        'RunsQueueAgeAlarm',
        'Rota: the oldest run message is over 5 minutes old (executors are not keeping up)',
        this.runsQueue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        Duration.minutes(5).toSeconds(),
      ),
      above(
        'ScheduleLagAlarm',
        'Rota: p99 schedule lag (run start minus due time) is over 60 seconds',
        new cloudwatch.Metric({
          namespace: 'Rota',
          metricName: 'ScheduleLag',
          dimensionsMap: { service: this.executor.serviceName },
          statistic: cloudwatch.Stats.p(99),
          period: Duration.minutes(5),
        }),
        Duration.seconds(60).toMilliseconds(),
      ),
    ];
    if (topic) {
      const action = new SnsAction(topic);
      for (const alarm of alarms) alarm.addAlarmAction(action);
    }
    return alarms;
  }
}

interface Settings {
  authMode: TaskServiceAuthMode;
  authorizerCacheTtl: Duration;
  maxTasksPerOrg: number;
  runRetentionDays: number;
  dueShards: number;
  executorMaxConcurrency: number;
  schedulerRate: Duration;
  executorTimeout: Duration;
  apiRateLimit: number;
  apiBurstLimit: number;
}

/** Precise synth-time errors instead of a failed deployment or a misbehaving service. */
function validate(props: TaskServiceProps): Settings {
  const fail = (message: string): never => {
    throw new Error(`TaskService: ${message}`);
  };
  const integerIn = (name: string, value: number, min: number, max: number) => {
    if (!Token.isUnresolved(value) && !(Number.isInteger(value) && value >= min && value <= max)) {
      fail(`${name} must be an integer from ${min} to ${max}, got ${value}`);
    }
    return value;
  };
  const positive = (name: string, value: number) => {
    if (!Token.isUnresolved(value) && !(Number.isFinite(value) && value > 0)) {
      fail(`${name} must be a positive number, got ${value}`);
    }
    return value;
  };

  const runRetention = props.runRetention ?? Duration.days(7);
  const runRetentionDays = runRetention.toSeconds({ integral: false }) / 86_400;
  integerIn('runRetention (days)', runRetentionDays, 1, 3650);

  const schedulerRate = props.schedulerRate ?? Duration.minutes(1);
  const rateMinutes = schedulerRate.toSeconds({ integral: false }) / 60;
  // SQS delays a message at most 15 minutes, which bounds how far a tick can look ahead.
  integerIn('schedulerRate (minutes)', rateMinutes, 1, 15);

  const executorTimeout = props.executorTimeout ?? Duration.minutes(5);
  integerIn('executorTimeout (seconds)', executorTimeout.toSeconds({ integral: false }), 1, 900);

  for (const [name, arns] of [
    ['targetLambdaArns', props.targetLambdaArns],
    ['targetQueueArns', props.targetQueueArns],
    ['targetTopicArns', props.targetTopicArns],
    ['targetEventBusArns', props.targetEventBusArns],
  ] as const) {
    if (arns?.includes('*')) fail(`${name} must list ARNs; "*" would let any task reach any resource`);
  }

  const authMode = props.authMode ?? 'token';
  if (!['token', 'iam', 'none'].includes(authMode))
    fail(`authMode must be token, iam or none, got ${authMode}`);
  const authorizerCacheTtl = props.authorizerCacheTtl ?? Duration.seconds(60);
  integerIn('authorizerCacheTtl (seconds)', authorizerCacheTtl.toSeconds({ integral: false }), 0, 3600);

  const apiRateLimit = positive('apiRateLimit', props.apiRateLimit ?? 100);
  const apiBurstLimit = integerIn('apiBurstLimit', props.apiBurstLimit ?? 200, 0, 5000);

  return {
    authMode,
    authorizerCacheTtl,
    maxTasksPerOrg: integerIn('maxTasksPerOrg', props.maxTasksPerOrg ?? 1000, 1, 1_000_000),
    runRetentionDays,
    dueShards: integerIn('dueShards', props.dueShards ?? 8, 1, 256),
    executorMaxConcurrency: integerIn('executorMaxConcurrency', props.executorMaxConcurrency ?? 50, 2, 1000),
    schedulerRate,
    executorTimeout,
    apiRateLimit,
    apiBurstLimit,
  };
}

function visibilityFor(functionTimeout: Duration, batchingWindow: Duration): Duration {
  return Duration.seconds(6 * functionTimeout.toSeconds() + batchingWindow.toSeconds());
}

function pascalCase(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
