import { PUBLIC_GET_PATHS } from '../lib/auth/model';
import { AUTH_STORE } from '../lib/auth/table-uses';
import { EVENTS_PATH } from '../lib/events/watch';
import { OPENAPI_FILE } from '../lib/http/meta-routes';
import type { TableUse } from '../lib/store/access';
import { LEASE_STORE, RUN_STORE, TASK_STORE } from '../lib/store/table-uses';
import { SYSTEMS, type SystemRegistry } from '../lib/systems/registry';
import type { SystemApi } from '../lib/systems/system';
import { buildConsolePage, CONSOLE_FILE } from './console';
import { executorEntry, openApiFile, systemApiEntry } from './generated';

// Every function the construct deploys, as data: what it runs, its routes, and what its
// code does to the table, the runs queue and the secrets key, derived from the system
// registry it is given. The constructs only read these lists.

/**
 * A function's entry file, relative to the Rota root: `functions/<name>.ts`, or one
 * generated from the registry (infra/generated.ts), written when it is asked for.
 */
export type EntryFile = () => string;

const handWritten =
  (path: string): EntryFile =>
  () =>
    path;

/** One HTTP API system: a function, its routes, and what it may touch. */
export interface ApiFunctionSpec {
  /** Function name, `rota-<name>` in logs and metrics. */
  readonly name: string;
  /** Its entry: what local mode's `--bundles` and the construct both bundle. */
  readonly entry: EntryFile;
  /** Every method on this path and below it, behind the API's authorizer. */
  readonly basePath?: string;
  /** GET routes served without authorization (documents and probes only). */
  readonly publicGetPaths?: readonly string[];
  /** Single GET routes behind the API's authorizer, outside any base path. */
  readonly authorizedGetPaths?: readonly string[];
  /**
   * What its code does to the table: the uses its stores declare (lib/store/access.ts).
   * The role gets exactly their union, each action confined to the uses' key prefixes.
   */
  readonly table: readonly TableUse[];
  /** Sends to the runs queue (manual runs, retries). */
  readonly enqueue: boolean;
  /** Seals credentials it stores (`kms:GenerateDataKey` on the secrets key). @default false */
  readonly sealsSecrets?: boolean;
  /** Builds files that ship beside the bundle (name in the asset → path on disk). @default none */
  readonly files?: () => Readonly<Record<string, string>>;
}

/** A registered system's API as the construct deploys it: its function, routes and grants. */
export function apiFunctionSpec(api: SystemApi<never>, systems: SystemRegistry): ApiFunctionSpec {
  return {
    name: api.name,
    entry: () => systemApiEntry(api, systems.resources),
    basePath: api.basePath,
    table: api.table,
    enqueue: api.enqueue,
    sealsSecrets: api.sealsSecrets ?? false,
  };
}

/** The public documents and probes: not a system, no table access. */
export function metaFunctionSpec(systems: SystemRegistry): ApiFunctionSpec {
  return {
    name: 'meta-api',
    entry: handWritten('functions/meta-api.ts'),
    publicGetPaths: [...PUBLIC_GET_PATHS],
    // Local mode streams it; the deployed function answers that the events are on the bus.
    authorizedGetPaths: [EVENTS_PATH],
    // The web console's page, served at GET / (docs/decisions/0007-cli-and-web-console.md),
    // and the OpenAPI document of the registry's APIs, generated here so the bundle holds no system.
    files: () => ({ [CONSOLE_FILE]: buildConsolePage(), [OPENAPI_FILE]: openApiFile(systems) }),
    table: [],
    enqueue: false,
  };
}

/** The HTTP API, one function per API of the registered systems (lib/systems/registry.ts). */
export function apiFunctionSpecs(systems: SystemRegistry = SYSTEMS): readonly ApiFunctionSpec[] {
  return [...systems.apis.map((api) => apiFunctionSpec(api, systems)), metaFunctionSpec(systems)];
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
  entry: handWritten('functions/authorizer.ts'),
  table: [AUTH_STORE.reads],
  enqueue: false,
};

/** A function with its own trigger: what it runs and what its code does to the table and queue. */
export interface WorkerFunctionSpec {
  readonly name: string;
  readonly entry: EntryFile;
  /** @see ApiFunctionSpec.table */
  readonly table: readonly TableUse[];
  readonly enqueue: boolean;
}

/** The engine's functions; each has its own trigger, wired in the construct. The executor runs every registered engine. */
export function workerFunctionSpecs(systems: SystemRegistry = SYSTEMS) {
  return [
    {
      name: 'scheduler',
      entry: handWritten('functions/scheduler.ts'),
      table: [TASK_STORE.schedule],
      enqueue: true,
    },
    {
      name: 'executor',
      entry: () => executorEntry(systems.engines),
      table: executorTable(systems),
      enqueue: true,
    },
    {
      name: 'reconciler',
      entry: handWritten('functions/reconciler.ts'),
      table: [RUN_STORE.reconciliation],
      enqueue: true,
    },
    {
      name: 'dead-letter',
      entry: handWritten('functions/dead-letter.ts'),
      table: [RUN_STORE.failures, TASK_STORE.completions],
      enqueue: false,
    },
    {
      // The fan-out's worker: plans the due shards of one planning job (docs/decisions/0014).
      name: 'planning-worker',
      entry: handWritten('functions/planning-worker.ts'),
      table: [TASK_STORE.schedule],
      enqueue: true,
    },
    {
      // Reads a run's task (its org and type) for the events the stream's changes make.
      name: 'event-publisher',
      entry: handWritten('functions/event-publisher.ts'),
      table: [TASK_STORE.reads],
      enqueue: false,
    },
    {
      name: 'run-requests',
      entry: handWritten('functions/run-requests.ts'),
      table: [TASK_STORE.reads, RUN_STORE.creates],
      enqueue: true,
    },
  ] as const satisfies readonly WorkerFunctionSpec[];
}

export const WORKER_FUNCTIONS = workerFunctionSpecs();

/** What a function is built from: its name, its entry, and the files that ship beside its bundle. */
export interface BuiltFunction {
  readonly name: string;
  readonly entry: EntryFile;
  readonly files?: () => Readonly<Record<string, string>>;
}

/** Every function the construct deploys for `systems`; scripts/bundle.ts builds the same list. */
export function rotaFunctions(systems: SystemRegistry = SYSTEMS): readonly BuiltFunction[] {
  return [...apiFunctionSpecs(systems), ...workerFunctionSpecs(systems), AUTHORIZER_FUNCTION].map(
    (spec): BuiltFunction => {
      const files = (spec as { files?: () => Readonly<Record<string, string>> }).files;
      return { name: spec.name, entry: spec.entry, ...(files ? { files } : {}) };
    },
  );
}

export const ROTA_FUNCTIONS: readonly BuiltFunction[] = rotaFunctions();

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
      ['planning-worker', 'planningQueue'],
    ] as const
  ).map(([fn, queue]) => ({
    functions: [fn],
    actions: ['sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
    resource: queue,
    reason:
      "Lambda's SQS event source mapping polls with the function's role and needs these (CDK's SqsEventSource grants them); local mode's poller only receives and deletes",
  })),
  ...(
    [
      ['table', ['dynamodb:ListStreams']],
      ['table/stream', ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']],
    ] as const
  ).map(([resource, actions]) => ({
    functions: ['event-publisher'],
    actions: [...actions],
    resource,
    reason:
      "Lambda's DynamoDB stream event source reads the stream with the function's role (CDK's DynamoEventSource grants these); no emulator the suites run has streams, so local mode's write hook stands in (ADR 0021)",
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
