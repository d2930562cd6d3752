import { runService, secretBox, systemStores, targetPolicy, taskService } from '../../lib/composition/core';
import { defineFunction } from '../../lib/composition/function';
import { createApiHandler } from '../../lib/http/api-handler';
import { runRoutes } from '../../lib/http/run-routes';
import { checksSystem } from '../../lib/systems/checks/definition';
import { CHECKS_BASE_PATH, checkRoutes } from '../../lib/systems/checks/http';

/** `/api/v2/checks`: the checks system's endpoint, checks, their statuses and runs. */
export const checksApi = defineFunction({
  name: 'checks-api',
  needs: ['table', 'runsQueue', 'secretsKey'],
  build: (rota) => {
    const checks = rota.get(taskService).forSystem(checksSystem);
    const { statuses } = rota.get(systemStores);
    return createApiHandler(
      [
        ...checkRoutes(checks, statuses, rota.get(targetPolicy), rota.get(secretBox)),
        ...runRoutes(CHECKS_BASE_PATH, rota.get(runService).forSystem(checks)),
      ],
      { resource: 'checks', authMode: rota.config.ROTA_AUTH_MODE },
    );
  },
});
