import { createApiHandler } from '../lib/http/api-handler';
import { runRoutes } from '../lib/http/run-routes';
import { runtime } from '../lib/runtime';
import { RULES_BASE_PATH, ruleRoutes } from '../lib/systems/notifications/http';
import { notificationRulesSystem } from '../lib/systems/notifications/rule-model';

const { taskService, runService, endpoints, notificationLog } = runtime();
const rules = taskService.forSystem(notificationRulesSystem);

/** `/api/v2/notificationRules`: rules, their notification log and runs. */
export const handler = createApiHandler(
  [
    ...ruleRoutes(rules, endpoints, notificationLog),
    ...runRoutes(RULES_BASE_PATH, runService.forSystem(rules)),
  ],
  { resource: 'notifications' },
);
