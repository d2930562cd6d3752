import { authorizationsApiDoc } from '../lib/auth/openapi';
import { requireFunctionConfig } from '../lib/function-config';
import { createApiHandler } from '../lib/http/api-handler';
import { buildOpenApi } from '../lib/http/openapi';
import { json } from '../lib/http/response';
import { rotaHandler } from '../lib/observability/aws-calls';
import { checksApiDoc } from '../lib/systems/checks/openapi';
import { notificationsApiDoc } from '../lib/systems/notifications/openapi';
import { tasksApiDoc } from '../lib/systems/tasks/openapi';

requireFunctionConfig([]);

const document = buildOpenApi([tasksApiDoc, checksApiDoc, notificationsApiDoc, authorizationsApiDoc]);

/**
 * `/health` and `/api/v2/openapi.json`: public on purpose (no `resource`), served
 * without an authorizer, and with no table access.
 */
export const handler = rotaHandler(
  'meta-api',
  createApiHandler([
    { method: 'GET', path: '/health', handler: async () => json(200, { status: 'pass' }) },
    { method: 'GET', path: '/api/v2/openapi.json', handler: async () => json(200, document) },
  ]),
);
