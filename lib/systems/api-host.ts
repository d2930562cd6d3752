import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { AuthMode } from '../auth/config';
import { createApiHandler } from '../http/api-handler';
import type { ApiResponse } from '../http/response';
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
