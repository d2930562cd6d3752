import { runService, systemStores, taskService } from '../../lib/composition/core';
import { defineFunction } from '../../lib/composition/function';
import { createApiHandler } from '../../lib/http/api-handler';
import { runRoutes } from '../../lib/http/run-routes';
import { RULES_BASE_PATH, ruleRoutes } from '../../lib/systems/notifications/http';
import { notificationRulesSystem } from '../../lib/systems/notifications/rule-model';

/** `/api/v2/notificationRules`: rules, their notification log and runs. */
export const notificationRulesApi = defineFunction({
  name: 'notification-rules-api',
  needs: ['table', 'runsQueue'],
  build: (rota) => {
    const rules = rota.get(taskService).forSystem(notificationRulesSystem);
    const { endpoints, notificationLog } = rota.get(systemStores);
    return createApiHandler(
      [
        ...ruleRoutes(rules, endpoints, notificationLog),
        ...runRoutes(RULES_BASE_PATH, rota.get(runService).forSystem(rules)),
      ],
      { resource: 'notifications', authMode: rota.config.ROTA_AUTH_MODE },
    );
  },
});
