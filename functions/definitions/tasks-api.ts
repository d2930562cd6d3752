import { runService, secretBox, targetPolicy, taskService } from '../../lib/composition/core';
import { defineFunction } from '../../lib/composition/function';
import { createApiHandler } from '../../lib/http/api-handler';
import { runRoutes } from '../../lib/http/run-routes';
import { tasksSystem } from '../../lib/systems/tasks/definition';
import { TASKS_BASE_PATH, taskRoutes } from '../../lib/systems/tasks/http';

/** `/api/v2/tasks`: the user-task system's endpoint, tasks and their runs. */
export const tasksApi = defineFunction({
  name: 'tasks-api',
  needs: ['table', 'runsQueue', 'secretsKey'],
  build: (rota) => {
    const tasks = rota.get(taskService).forSystem(tasksSystem);
    return createApiHandler(
      [
        ...taskRoutes(tasks, rota.get(targetPolicy), rota.get(secretBox)),
        ...runRoutes(TASKS_BASE_PATH, rota.get(runService).forSystem(tasks)),
      ],
      { resource: 'tasks', authMode: rota.config.ROTA_AUTH_MODE },
    );
  },
});
