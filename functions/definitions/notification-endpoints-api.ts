import { secretBox, systemStores, targetPolicy, taskService } from '../../lib/composition/core';
import { defineFunction } from '../../lib/composition/function';
import { createApiHandler } from '../../lib/http/api-handler';
import { endpointRoutes } from '../../lib/systems/notifications/http';
import { notificationRulesSystem } from '../../lib/systems/notifications/rule-model';

/** `/api/v2/notificationEndpoints`: where notification rules send. Plain items, not tasks. */
export const notificationEndpointsApi = defineFunction({
  name: 'notification-endpoints-api',
  needs: ['table', 'secretsKey'],
  build: (rota) => {
    const rules = rota.get(taskService).forSystem(notificationRulesSystem);
    const { endpoints } = rota.get(systemStores);
    return createApiHandler(endpointRoutes(endpoints, rules, rota.get(targetPolicy), rota.get(secretBox)), {
      resource: 'notifications',
      authMode: rota.config.ROTA_AUTH_MODE,
    });
  },
});
