import { PUBLIC_GET_PATHS } from '../lib/auth/model';
import { AUTH_STORE } from '../lib/auth/store';
import type { TableUse } from '../lib/store/access';
import { LEASE_STORE } from '../lib/store/lease-store';
import { RUN_STORE } from '../lib/store/run-store';
import { TASK_STORE } from '../lib/store/task-store';
import { SYSTEMS, type SystemRegistry } from '../lib/systems/registry';
import type { SystemApi } from '../lib/systems/system';
import { buildConsolePage, CONSOLE_FILE } from './console';

// Every function the construct deploys, as data: what it runs, its routes, and what its
// code does to the table, the runs queue and the secrets key. The constructs only read
// this list, so it can later be derived from the system registry in one place.

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
  /** Builds files that ship beside the bundle (name in the asset → path on disk). @default none */
  readonly files?: () => Readonly<Record<string, string>>;
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
  // The web console's page, served at GET / (docs/decisions/0007-cli-and-web-console.md).
  files: () => ({ [CONSOLE_FILE]: buildConsolePage() }),
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
export const ROTA_FUNCTIONS: readonly {
  readonly name: string;
  readonly entry: string;
  readonly files?: () => Readonly<Record<string, string>>;
}[] = [...API_FUNCTIONS, ...WORKER_FUNCTIONS, AUTHORIZER_FUNCTION].map((spec) => {
  const files = (spec as { files?: () => Readonly<Record<string, string>> }).files;
  return { name: spec.name, entry: spec.entry, ...(files ? { files } : {}) };
});

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
