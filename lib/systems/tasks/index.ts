import { runRoutes } from '../../http/run-routes';
import { type ApiServices, MANAGES_TASKS, type RunnerServices } from '../services';
import { defineSystemModule, engine } from '../system';
import { tasksSystem } from './definition';
import { TASKS_BASE_PATH, taskRoutes } from './http';
import { createTaskRunner } from './runner';

/** User-defined scheduled tasks: InfluxDB's `/api/v2/tasks`, each run calling its target. */
export const tasksModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'tasks',
  apis: [
    {
      name: 'tasks-api',
      basePath: TASKS_BASE_PATH,
      resource: 'tasks',
      tag: 'Tasks',
      table: MANAGES_TASKS,
      enqueue: true,
      sealsSecrets: true,
      needs: ['table', 'runsQueue', 'secretsKey'],
      routes: ({ core, secrets }) => {
        const { taskService, runService, targetPolicy } = core();
        const tasks = taskService.forSystem(tasksSystem);
        return [
          ...taskRoutes(tasks, targetPolicy, secrets()),
          ...runRoutes(TASKS_BASE_PATH, runService.forSystem(tasks)),
        ];
      },
    },
  ],
  engine: engine(
    tasksSystem,
    (rt) => createTaskRunner({ policy: rt.targetPolicy, aws: rt.aws, secrets: rt.secrets }),
    [],
  ),
});
