import { authorizationsApiDoc } from '../../lib/auth/openapi';
import { defineFunction } from '../../lib/composition/function';
import { createApiHandler } from '../../lib/http/api-handler';
import { buildOpenApi } from '../../lib/http/openapi';
import { json } from '../../lib/http/response';
import { checksApiDoc } from '../../lib/systems/checks/openapi';
import { notificationsApiDoc } from '../../lib/systems/notifications/openapi';
import { tasksApiDoc } from '../../lib/systems/tasks/openapi';

/**
 * `/health` and `/api/v2/openapi.json`: public on purpose (no `resource`), served
 * without an authorizer, and with no table access.
 */
export const metaApi = defineFunction({
  name: 'meta-api',
  needs: [],
  build: () => {
    const document = buildOpenApi([tasksApiDoc, checksApiDoc, notificationsApiDoc, authorizationsApiDoc]);
    return createApiHandler([
      { method: 'GET', path: '/health', handler: async () => json(200, { status: 'pass' }) },
      { method: 'GET', path: '/api/v2/openapi.json', handler: async () => json(200, document) },
    ]);
  },
});
