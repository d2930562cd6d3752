import { secretBox } from '../lib/auth/secret-box';
import { requireFunctionConfig } from '../lib/function-config';
import { createApiHandler } from '../lib/http/api-handler';
import { runRoutes } from '../lib/http/run-routes';
import { rotaHandler } from '../lib/observability/aws-calls';
import { runtime } from '../lib/runtime';
import { tasksSystem } from '../lib/systems/tasks/definition';
import { TASKS_BASE_PATH, taskRoutes } from '../lib/systems/tasks/http';

requireFunctionConfig(['table', 'runsQueue', 'secretsKey']);

const { taskService, runService, targetPolicy } = runtime();
const tasks = taskService.forSystem(tasksSystem);

/** `/api/v2/tasks`: the user-task system's endpoint, tasks and their runs. */
export const handler = rotaHandler(
  'tasks-api',
  createApiHandler(
    [
      ...taskRoutes(tasks, targetPolicy, secretBox()),
      ...runRoutes(TASKS_BASE_PATH, runService.forSystem(tasks)),
    ],
    { resource: 'tasks' },
  ),
);
