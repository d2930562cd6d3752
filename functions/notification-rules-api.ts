import { requireFunctionConfig } from '../lib/function-config';
import { createApiHandler } from '../lib/http/api-handler';
import { runRoutes } from '../lib/http/run-routes';
import { rotaHandler } from '../lib/observability/aws-calls';
import { runtime } from '../lib/runtime';
import { RULES_BASE_PATH, ruleRoutes } from '../lib/systems/notifications/http';
import { notificationRulesSystem } from '../lib/systems/notifications/rule-model';

requireFunctionConfig(['table', 'runsQueue']);

const { taskService, runService, endpoints, notificationLog } = runtime();
const rules = taskService.forSystem(notificationRulesSystem);

/** `/api/v2/notificationRules`: rules, their notification log and runs. */
export const handler = rotaHandler(
  'notification-rules-api',
  createApiHandler(
    [
      ...ruleRoutes(rules, endpoints, notificationLog),
      ...runRoutes(RULES_BASE_PATH, runService.forSystem(rules)),
    ],
    { resource: 'notifications' },
  ),
);
