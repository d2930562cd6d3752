import { defineFunction, type FunctionDefinition, lambdaHandler } from '../../lib/composition/function';
import { apiServices } from '../../lib/composition/systems';
import { type SystemApiHandler, systemApiHandler } from '../../lib/systems/api-host';
import type { ApiServices } from '../../lib/systems/services';
import { apiIn, type SystemApi } from '../../lib/systems/system';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * One system API as a function: the construct's name for it, its needs, its routes over
 * the root's parts. `resources` are the permission resources of the registry it is
 * deployed from (the authorizations API accepts exactly those in a token).
 */
export function systemApiFunction(
  api: SystemApi<ApiServices>,
  resources: ApiServices['resources'],
): FunctionDefinition<Parameters<SystemApiHandler>, Awaited<ReturnType<SystemApiHandler>>> {
  return defineFunction({
    name: api.name,
    needs: api.needs,
    build: (rota) => systemApiHandler(api, apiServices(rota, resources), rota.config.ROTA_AUTH_MODE),
  });
}

/**
 * What the entry the construct generates for a system API (infra/entries.ts) runs at
 * module scope: the API named `name` among its source file's exports, built from the
 * environment, whose needs are that API's. The entry imports that file and nothing of
 * any other system, so neither does the bundle.
 */
export function systemApiLambda(
  source: Readonly<Record<string, unknown>>,
  name: string,
  resources: ApiServices['resources'],
  env: Env,
): SystemApiHandler {
  return lambdaHandler(systemApiFunction(apiIn<ApiServices>(source, name), resources), env);
}
