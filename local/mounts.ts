import { PUBLIC_GET_PATHS } from '../lib/auth/model';
import type { FunctionDefinition } from '../lib/composition/function';
import { SYSTEMS, type SystemRegistry } from '../lib/systems/registry';
import type { HttpHandler } from './http-adapter';

/** Loads a function's handler, built from local mode's root (the default) or run from its bundle. */
export type HandlerLoader = (name: string) => Promise<unknown>;

/**
 * Which function serves which path prefix: the local twin of the HTTP API's routes in
 * the construct, derived from the same system registry, by the construct's names.
 */
export function apiMounts(registry: SystemRegistry = SYSTEMS): readonly { prefix: string; fn: string }[] {
  return [
    ...registry.apis.map((api) => ({ prefix: api.basePath, fn: api.name })),
    ...PUBLIC_GET_PATHS.map((prefix) => ({ prefix, fn: 'meta-api' })),
  ];
}

export const API_MOUNTS = apiMounts();

type Definitions = Readonly<Record<string, () => Promise<FunctionDefinition>>>;

/** Every system API as its own function definition, as each API's generated entry builds it. */
function systemApiDefinitions(registry: SystemRegistry): Definitions {
  return Object.fromEntries(
    registry.apis.map((api) => [
      api.name,
      async () =>
        (await import('../functions/definitions/system-api')).systemApiFunction(api, registry.resources),
    ]),
  );
}

/** The meta API, serving the document of the registry's APIs, built once from the sources. */
async function metaApiDefinition(registry: SystemRegistry): Promise<FunctionDefinition> {
  const [{ metaApiFunction }, { openApiDocument }] = await Promise.all([
    import('../functions/definitions/meta-api'),
    import('../lib/systems/api-docs'),
  ]);
  const document = JSON.stringify(openApiDocument(registry));
  return metaApiFunction(async () => document);
}

/**
 * Every function's definition (functions/definitions/*.ts), which local mode builds from
 * its own composition root, for the systems of the registry. Loaded on first use: with
 * `--bundles` none is needed.
 */
export const FUNCTION_DEFINITIONS: Definitions = {
  ...systemApiDefinitions(SYSTEMS),
  'meta-api': () => metaApiDefinition(SYSTEMS),
  authorizer: async () => (await import('../functions/definitions/authorizer')).authorizer,
  scheduler: async () => (await import('../functions/definitions/scheduler')).scheduler,
  // Local mode sets no planning queue, so its scheduler plans every shard inline; the
  // worker is here for the harnesses that drive a planning queue of their own.
  'planning-worker': async () => (await import('../functions/definitions/planning-worker')).planningWorker,
  executor: async () => (await import('../functions/definitions/executor')).executorFunction(SYSTEMS.engines),
  'dead-letter': async () => (await import('../functions/definitions/dead-letter')).deadLetter,
  reconciler: async () => (await import('../functions/definitions/reconciler')).reconciler,
  'event-publisher': async () => (await import('../functions/definitions/event-publisher')).eventPublisher,
  'run-requests': async () => (await import('../functions/definitions/run-requests')).runRequests,
};

export type { HttpHandler };
