import { requireFunctionConfig } from '../lib/function-config';
import { createApiHandler } from '../lib/http/api-handler';
import { rotaHandler } from '../lib/observability/aws-calls';
import { runtime } from '../lib/runtime';
import { endpointRoutes } from '../lib/systems/notifications/http';
import { notificationRulesSystem } from '../lib/systems/notifications/rule-model';

requireFunctionConfig(['table', 'secretsKey']);

const { taskService, endpoints, targetPolicy } = runtime();

/** `/api/v2/notificationEndpoints`: where notification rules send. Plain items, not tasks. */
export const handler = rotaHandler(
  'notification-endpoints-api',
  createApiHandler(endpointRoutes(endpoints, taskService.forSystem(notificationRulesSystem), targetPolicy), {
    resource: 'notifications',
  }),
);
