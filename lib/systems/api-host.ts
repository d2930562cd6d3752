import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import type { AuthMode } from '../auth/config';
import { NotFoundError, toErrorBody } from '../errors';
import { createApiHandler } from '../http/api-handler';
import { type ApiResponse, errorResponse } from '../http/response';
import type { SystemRegistry } from './registry';
import type { ApiServices } from './services';
import type { SystemApi } from './system';

export type SystemApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<ApiResponse>;

/** One API's route table as one handler, behind its permission resource. */
export function systemApiHandler(
  api: SystemApi<ApiServices>,
  services: ApiServices,
  authMode: AuthMode,
): SystemApiHandler {
  return createApiHandler(api.routes(services), { resource: api.resource, authMode });
}

/**
 * The construct deploys functions/system-api.ts once per API and names each
 * function's service `rota-<api>` (POWERTOOLS_SERVICE_NAME), which selects the API.
 */
const serviceName = z.object({ POWERTOOLS_SERVICE_NAME: z.string().optional() });

export function selectedApi(registry: SystemRegistry, env: Readonly<Record<string, string | undefined>>) {
  const name = serviceName.parse(env).POWERTOOLS_SERVICE_NAME?.replace(/^rota-/, '');
  return name === undefined ? undefined : registry.api(name);
}

const under = (path: string, basePath: string) => path === basePath || path.startsWith(`${basePath}/`);

/** Serves each API by its base path, as API Gateway's routes would; any other path is a 404. */
export function byBasePath(
  handlers: readonly { api: SystemApi<ApiServices>; handler: SystemApiHandler }[],
): SystemApiHandler {
  return async (event, context) => {
    const found = handlers.find(({ api }) => under(event.rawPath, api.basePath));
    if (found) return found.handler(event, context);
    const { status, body } = toErrorBody(new NotFoundError(`path not found: ${event.rawPath}`));
    return errorResponse(status, body);
  };
}
