import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { NotFoundError, toErrorBody } from '../errors';
import { type ConfigNeed, requireFunctionConfig } from '../function-config';
import { createApiHandler } from '../http/api-handler';
import { type ApiResponse, errorResponse } from '../http/response';
import { rotaHandler } from '../observability/aws-calls';
import type { SystemRegistry } from './registry';
import type { ApiServices } from './services';
import type { SystemApi } from './system';

export type SystemApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<ApiResponse>;

/** One API as its Lambda function serves it; its AWS calls are recorded under its name. */
export function systemApiHandler(api: SystemApi<ApiServices>, services: ApiServices) {
  return rotaHandler(api.name, createApiHandler(api.routes(services), { resource: api.resource }));
}

/**
 * The construct deploys functions/system-api.ts once per API and names each
 * function's service `rota-<api>` (POWERTOOLS_SERVICE_NAME), which selects the API.
 */
const serviceName = z.object({ POWERTOOLS_SERVICE_NAME: z.string().optional() });

export function selectedApi(registry: SystemRegistry, env: NodeJS.ProcessEnv = process.env) {
  const name = serviceName.parse(env).POWERTOOLS_SERVICE_NAME?.replace(/^rota-/, '');
  return name === undefined ? undefined : registry.api(name);
}

const under = (path: string, basePath: string) => path === basePath || path.startsWith(`${basePath}/`);

/**
 * The entry every system API runs. On Lambda it serves the API its function was
 * deployed for, and checks that API's configuration at cold start. In local mode
 * (one process, no service name) it serves every registered API, each by its base
 * path and under its own name, as API Gateway's routes would.
 */
export function systemApiEntry(
  registry: SystemRegistry,
  services: ApiServices,
  env: NodeJS.ProcessEnv = process.env,
) {
  const selected = selectedApi(registry, env);
  const apis = selected ? [selected] : registry.apis;
  requireFunctionConfig([...new Set<ConfigNeed>(apis.flatMap((a) => a.needs))], env);
  if (selected) return systemApiHandler(selected, services);
  const handlers = apis.map((api) => ({ api, handler: systemApiHandler(api, services) }));
  return async (event: APIGatewayProxyEventV2, context: Context): Promise<ApiResponse> => {
    const found = handlers.find(({ api }) => under(event.rawPath, api.basePath));
    if (found) return found.handler(event, context);
    const { status, body } = toErrorBody(new NotFoundError(`path not found: ${event.rawPath}`));
    return errorResponse(status, body);
  };
}
