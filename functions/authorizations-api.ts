import { authorizationRoutes } from '../lib/auth/http';
import { authRuntime } from '../lib/auth/runtime';
import { requireFunctionConfig } from '../lib/function-config';
import { createApiHandler } from '../lib/http/api-handler';
import { rotaHandler } from '../lib/observability/aws-calls';

requireFunctionConfig(['table']);

const { store } = authRuntime();

/** `/api/v2/authorizations`: API tokens. Managing them takes `authorizations` permissions. */
export const handler = rotaHandler(
  'authorizations-api',
  createApiHandler(authorizationRoutes({ store }), { resource: 'authorizations' }),
);
