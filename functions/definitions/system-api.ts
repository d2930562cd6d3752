import { defineFunction, type FunctionDefinition, lambdaHandler } from '../../lib/composition/function';
import { apiServices } from '../../lib/composition/systems';
import { byBasePath, type SystemApiHandler, selectedApi, systemApiHandler } from '../../lib/systems/api-host';
import type { SystemRegistry } from '../../lib/systems/registry';
import type { ApiServices } from '../../lib/systems/services';
import type { SystemApi } from '../../lib/systems/system';

type Env = Readonly<Record<string, string | undefined>>;

/** One system API as a function: the construct's name for it, its needs, its routes over the root's parts. */
export function systemApiFunction(
  api: SystemApi<ApiServices>,
  registry: SystemRegistry,
): FunctionDefinition<Parameters<SystemApiHandler>, Awaited<ReturnType<SystemApiHandler>>> {
  return defineFunction({
    name: api.name,
    needs: api.needs,
    build: (rota) => systemApiHandler(api, apiServices(rota, registry), rota.config.ROTA_AUTH_MODE),
  });
}

/**
 * What functions/system-api.ts runs. On Lambda the function's service name selects its
 * API, whose needs are checked at cold start. Without one (the bundles local mode runs
 * in one worker) it serves every registered API by its base path, each built as its
 * own function from the environment.
 */
export function systemApiEntry(registry: SystemRegistry, env: Env): SystemApiHandler {
  const selected = selectedApi(registry, env);
  if (selected) return lambdaHandler(systemApiFunction(selected, registry), env);
  return byBasePath(
    registry.apis.map((api) => ({ api, handler: lambdaHandler(systemApiFunction(api, registry), env) })),
  );
}
