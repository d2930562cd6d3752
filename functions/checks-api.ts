import { requireFunctionConfig } from '../lib/function-config';
import { createApiHandler } from '../lib/http/api-handler';
import { runRoutes } from '../lib/http/run-routes';
import { rotaHandler } from '../lib/observability/aws-calls';
import { runtime } from '../lib/runtime';
import { checksSystem } from '../lib/systems/checks/definition';
import { CHECKS_BASE_PATH, checkRoutes } from '../lib/systems/checks/http';

requireFunctionConfig(['table', 'runsQueue', 'secretsKey']);

const { taskService, runService, statuses, targetPolicy } = runtime();
const checks = taskService.forSystem(checksSystem);

/** `/api/v2/checks`: the checks system's endpoint, checks, their statuses and runs. */
export const handler = rotaHandler(
  'checks-api',
  createApiHandler(
    [
      ...checkRoutes(checks, statuses, targetPolicy),
      ...runRoutes(CHECKS_BASE_PATH, runService.forSystem(checks)),
    ],
    { resource: 'checks' },
  ),
);
