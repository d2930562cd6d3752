import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { RotaEventType } from '../lib/events/model';
import type { SystemRegistry } from '../lib/systems/registry';

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

export interface TaskServiceProps {
  /**
   * How long finished runs are kept (DynamoDB TTL); whole days.
   * @default Duration.days(7)
   */
  readonly runRetention?: Duration;

  /**
   * Partitions of the sparse `due` index (1–256, ROTA_DUE_SHARDS): where an advance writes
   * a task's due key, and the most planning workers a tick can fan out to. 8 keep each
   * partition under half of DynamoDB's write ceiling for 1M every-1m tasks at the default
   * lookahead (docs/decisions/0014). To lower it, keep the old count in `dueShardsRead`
   * until the shards above the new one are empty; raising it needs nothing.
   * @default 8
   */
  readonly dueShards?: number;

  /**
   * Due and open shards readers cover when above `dueShards` (ROTA_DUE_SHARDS_READ): the old
   * count, for as long as tasks or open runs may still sit in the shards above the new one.
   * @default - `dueShards`
   */
  readonly dueShardsRead?: number;

  /**
   * How far ahead each tick plans runs (ROTA_SCHEDULER_LOOKAHEAD_SECONDS), 60–900 s and not
   * below `schedulerRate`: further ahead means fewer advances (cheaper), a shorter one fewer
   * queued runs of an old revision after an edit.
   * @default Duration.minutes(15)
   */
  readonly schedulerLookahead?: Duration;

  /**
   * Planning workers per tick (ROTA_PLANNING_WORKERS, 1–256, at most the shards read). One
   * plans inline in the scheduler; more send one planning job per shard range.
   * @default - derived each tick from the number of active tasks (the due index's item count)
   */
  readonly planningWorkers?: number;

  /**
   * Most executor invocations at once: the SQS event source's maximum concurrency
   * (2–1000). This is Rota's worker pool.
   * @default 50
   */
  readonly executorMaxConcurrency?: number;

  /**
   * How long the executor's SQS event source gathers runs before it invokes (whole
   * seconds, 0–300). 0 invokes as soon as runs are visible, which keeps the lag p99 under a
   * second; a window trades up to that much lag for fuller batches, i.e. fewer invocations
   * per run at low rates (docs/decisions/0026).
   * @default Duration.seconds(0)
   */
  readonly executorBatchingWindow?: Duration;

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
   * (`token` mode; 0–3600 s). Zero (the default) runs the authorizer on every request,
   * so a revoked token fails at once and a request without the header gets Rota's own
   * `401 unauthorized` message. With a cache, a deactivated or deleted token keeps
   * working this long, and API Gateway answers a missing header itself with a bare
   * `401 {"message":"Unauthorized"}` (the header becomes the cache key, an identity
   * source, and an HTTP API cannot restyle its own answers).
   * @default Duration.seconds(0)
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
   * The InfluxDB v2 API that Flux tasks without a target of their own run on
   * (`POST /api/v2/query`). The executor reads the token from `tokenSecret` on the
   * first Flux run. The URL is the operator's choice, so it is reachable whatever it
   * resolves to; a task's own `flux` target URL obeys the target policy.
   * @default - none: a Flux task without `target.url` fails, saying so
   */
  readonly influx?: {
    readonly url: string;
    readonly org?: string;
    readonly tokenSecret?: secretsmanager.ISecret;
  };

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

  /**
   * The bus Rota puts its events on (task, run and check status changes, source `rota`)
   * and takes "Run Requested" events from.
   * @default - a new bus of the stack's own
   */
  readonly eventBus?: events.IEventBus;

  /**
   * The `source` values whose "Run Requested" events run a task. The source is a label,
   * not a credential: who may put events on the bus is the bus's resource policy (by
   * default, principals of this account with `events:PutEvents` on it).
   * @default ['rota.run-requests']
   */
  readonly runRequestSources?: readonly string[];

  /**
   * The event types put on the bus. Each event is an EventBridge entry ($1.00 per million),
   * and a plain run makes two (`run.started`, `run.succeeded`), which doubles what a run
   * costs; a deployment that only reacts to failures can list `['run.failed']`. An empty
   * list puts no events: the table's stream is not read at all.
   * @default - every type (`EVENT_TYPES`)
   */
  readonly eventTypes?: readonly RotaEventType[];
}
