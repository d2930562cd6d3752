import type { ConfigNeed } from '../function-config';
import type { RouteDef } from '../http/route';
import type { RunRef } from '../run/model';
import type { TableUse } from '../store/access';
import type { Task } from '../task/model';
import type { SystemDefinition } from '../task/system-definition';

export type { RunRef };

export interface RunContext<M> {
  task: Task & { metadata: M };
  run: RunRef;
  /** Trips on timeout, on cancel, and when the Lambda is about to run out of time. */
  signal: AbortSignal;
  /** Appends a line to the run's log (bounded by the executor). */
  log(message: string): void;
}

/** A runner resolves when the run succeeded and throws when it failed. */
export type Runner<M> = (ctx: RunContext<M>) => Promise<void>;

export { defineSystem, type SystemDefinition } from '../task/system-definition';

/** A system as the executor sees it: its definition and its runner. */
export interface RunnableSystem<M extends Record<string, unknown> = Record<string, unknown>> {
  readonly definition: SystemDefinition<M>;
  readonly runner: Runner<M>;
}

/** Pairs a definition with its runner, erasing the metadata type for the registry. */
export function runnable<M extends Record<string, unknown>>(
  definition: SystemDefinition<M>,
  runner: Runner<M>,
): RunnableSystem {
  return { definition, runner } as unknown as RunnableSystem;
}

export interface RunnerRegistry {
  get(type: string): RunnableSystem | undefined;
  readonly types: readonly string[];
}

/** Indexes runnable systems by type; two systems can never claim one type. */
export function createRunnerRegistry(systems: readonly RunnableSystem[]): RunnerRegistry {
  const byType = new Map<string, RunnableSystem>();
  for (const system of systems) {
    const { type } = system.definition;
    if (byType.has(type)) throw new Error(`two systems claim the type "${type}"`);
    byType.set(type, system);
  }
  return { get: (type) => byType.get(type), types: [...byType.keys()] };
}

/**
 * One HTTP API of a system: a Lambda function of its own (`name`, e.g. `tasks-api`)
 * behind `basePath`, with the permission resource its callers need and what its code
 * may do to the table. The construct, local mode and the OpenAPI document all read
 * these fields; nothing else lists a system's API.
 */
export interface SystemApi<D> {
  /** The function's name: `rota-<name>` in logs and metrics, and the IAM contract's key. */
  readonly name: string;
  readonly basePath: string;
  /** The permission resource: `read` for GET and HEAD, `write` for everything else. */
  readonly resource: string;
  /** The OpenAPI tag of its routes. */
  readonly tag: string;
  /** The table uses its code reaches (each store declares its own); the role gets their union. */
  readonly table: readonly TableUse[];
  /** Sends to the runs queue (manual runs, retries). */
  readonly enqueue: boolean;
  /** Seals credentials it stores with the secrets key. @default false */
  readonly sealsSecrets?: boolean;
  /** What its cold start requires of the environment. */
  readonly needs: readonly ConfigNeed[];
  /** Its routes, each with request and response schemas, over the composition root's services. */
  readonly routes: (deps: D) => RouteDef[];
}

/** A system's task type as the executor runs it. */
export interface SystemEngine<R> {
  readonly definition: SystemDefinition;
  /** Builds the runner from the executor's services; only the executor calls it. */
  readonly runner: (deps: R) => Runner<Record<string, unknown>>;
  /** What the runner does to the table, added to the executor's role. */
  readonly table: readonly TableUse[];
}

/**
 * Everything about one system, exported by `lib/systems/<name>/index.ts` and listed
 * once in the registry. `D` is what its routes need and `R` what its runner needs;
 * the composition root provides both.
 */
export interface SystemModule<D = never, R = never> {
  readonly name: string;
  readonly apis: readonly SystemApi<D>[];
  readonly engine?: SystemEngine<R>;
}

/** Types a system module and checks its names; the registry refuses two of one name. */
export function defineSystemModule<D, R = never>(module: SystemModule<D, R>): SystemModule<D, R> {
  for (const api of module.apis) {
    if (!/^[a-z][a-z0-9-]{0,40}-api$/.test(api.name)) {
      throw new Error(`system API "${api.name}" must be named <name>-api in lowercase`);
    }
  }
  return module;
}

/** Pairs a typed definition with its typed runner factory, erasing the metadata type for the registry. */
export function engine<M extends Record<string, unknown>, R>(
  definition: SystemDefinition<M>,
  runner: (deps: R) => Runner<M>,
  table: readonly TableUse[],
): SystemEngine<R> {
  return { definition, runner, table } as unknown as SystemEngine<R>;
}
