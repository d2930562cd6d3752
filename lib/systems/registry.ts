import type { TableUse } from '../store/access';
import { authorizationsModule } from './authorizations';
import { checksModule } from './checks';
import { labelsModule } from './labels';
import { notificationsModule } from './notifications';
import type { ApiServices, RunnerServices } from './services';
import {
  type RunnerRegistry,
  runnersOf,
  type SystemApi,
  type SystemEngine,
  type SystemModule,
} from './system';
import { tasksModule } from './tasks';

export type RotaSystem = SystemModule<ApiServices, RunnerServices>;

/** Every system Rota ships. Adding a system is one line here. */
export const SYSTEM_MODULES: readonly RotaSystem[] = [
  tasksModule,
  checksModule,
  notificationsModule,
  authorizationsModule,
  labelsModule,
];

/**
 * What everything else derives from the list: the APIs (functions, routes, grants,
 * local mounts, the OpenAPI document), the permission resources, and the executor's
 * runners and table uses. The construct generates each API's entry and the executor's
 * from it (infra/entries.ts), so no bundle imports this file: each holds the systems
 * it runs. Tests build one with a test-only system added, the same way.
 */
export interface SystemRegistry {
  readonly modules: readonly RotaSystem[];
  readonly apis: readonly SystemApi<ApiServices>[];
  /** The engines of the systems that have a task type, in registry order. */
  readonly engines: readonly SystemEngine<RunnerServices>[];
  /** Permission resources a token may hold, in registry order, each once. */
  readonly resources: readonly [string, ...string[]];
  /** What every system's runner does to the table, for the executor's role. */
  readonly runnerTable: readonly TableUse[];
  api(name: string): SystemApi<ApiServices> | undefined;
  /** The permission resource of the system that owns a task type (`check` → `checks`): who may read its events. */
  resourceOf(taskType: string): string | undefined;
  runners(services: RunnerServices): RunnerRegistry;
}

export function createSystemRegistry(modules: readonly RotaSystem[]): SystemRegistry {
  const seen = new Set<string>();
  for (const name of [...modules.map((m) => `system ${m.name}`), ...modules.flatMap(apiKeys)]) {
    if (seen.has(name)) throw new Error(`two systems claim ${name}`);
    seen.add(name);
  }
  const apis = modules.flatMap((m) => m.apis);
  const engines = modules.flatMap((m) => (m.engine ? [m.engine] : []));
  const [first, ...rest] = [...new Set(apis.map((a) => a.resource))];
  if (first === undefined) throw new Error('a registry needs at least one system API');
  return {
    modules,
    apis,
    resources: [first, ...rest],
    engines,
    runnerTable: engines.flatMap((e) => e.table),
    api: (name) => apis.find((a) => a.name === name),
    resourceOf: (taskType) => modules.find((m) => m.engine?.definition.type === taskType)?.apis[0]?.resource,
    runners: (services) => runnersOf(engines, services),
  };
}

const apiKeys = (m: RotaSystem) => m.apis.flatMap((a) => [`API ${a.name}`, `path ${a.basePath}`]);

/** The registry of the systems Rota ships. */
export const SYSTEMS: SystemRegistry = createSystemRegistry(SYSTEM_MODULES);
