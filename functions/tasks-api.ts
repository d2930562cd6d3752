import { createApiHandler } from '../lib/http/api-handler';
import { runtime } from '../lib/runtime';
import { tasksSystem } from '../lib/systems/tasks/definition';
import { taskRoutes } from '../lib/systems/tasks/http';

/** `/api/v2/tasks`: the user-task system's endpoint. */
export const handler = createApiHandler(taskRoutes(runtime().taskService.forSystem(tasksSystem)));
