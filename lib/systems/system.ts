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
  /**
   * The file that exports it, or exports the module that holds it: `import.meta.url`.
   * The construct builds the function's bundle from this file alone, so the bundle
   * holds this system's code and no other's (and no runner, when the engine lives in
   * a file of its own).
   */
  readonly source: string;
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
  /** The file that exports it, or the module that holds it (see {@link SystemApi.source}): the executor's bundle imports it. */
  readonly source: string;
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
    checkSource(api.source, `system API "${api.name}"`);
  }
  if (module.engine) checkSource(module.engine.source, `the engine of system "${module.name}"`);
  return module;
}

function checkSource(source: string, what: string): void {
  if (!source.startsWith('file:')) {
    throw new Error(`${what} needs its source: the file that exports it (import.meta.url), got "${source}"`);
  }
}

/** Pairs a typed definition with its typed runner factory, erasing the metadata type for the registry. */
export function engine<M extends Record<string, unknown>, R>(spec: {
  /** The file that exports the engine or its module: `import.meta.url`. */
  source: string;
  definition: SystemDefinition<M>;
  runner: (deps: R) => Runner<M>;
  table: readonly TableUse[];
}): SystemEngine<R> {
  return spec as unknown as SystemEngine<R>;
}

/** The runners of `engines`, built from the executor's services. */
export function runnersOf<R>(engines: readonly SystemEngine<R>[], services: R): RunnerRegistry {
  return createRunnerRegistry(engines.map((e) => runnable(e.definition, e.runner(services))));
}

type Exports = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const apisOf = (value: unknown): unknown[] =>
  isObject(value) && Array.isArray(value.apis) ? value.apis : [value];
const engineOf = (value: unknown): unknown => (isObject(value) && 'apis' in value ? value.engine : value);

/**
 * The API named `name` among a source file's exports (an exported API, or one of an
 * exported module's): what a generated entry (infra/entries.ts) serves.
 */
export function apiIn<D>(exports: Exports, name: string): SystemApi<D> {
  const found = Object.values(exports)
    .flatMap(apisOf)
    .find((api) => isObject(api) && api.name === name && typeof api.routes === 'function');
  if (!found) throw new Error(`no system API "${name}" among the exports of its source`);
  return found as SystemApi<D>;
}

/** The engine of task type `type` among a source file's exports (an exported engine, or an exported module's). */
export function engineIn<R>(exports: Exports, type: string): SystemEngine<R> {
  const found = Object.values(exports)
    .map(engineOf)
    .find(
      (e) =>
        isObject(e) && isObject(e.definition) && e.definition.type === type && typeof e.runner === 'function',
    );
  if (!found) throw new Error(`no engine for the task type "${type}" among the exports of its source`);
  return found as SystemEngine<R>;
}
