import { runService, targetPolicy, taskService } from '../../composition/core';
import { secretBox } from '../../composition/secrets';
import { runRoutes } from '../../http/run-routes';
import { TASK_STORE } from '../../store/table-uses';
import { attachedLabels, labelMappingRoutes } from '../labels/mapping-routes';
import { labelStore } from '../labels/parts';
import { LABELLED_RESOURCE } from '../labels/table-uses';
import { type ApiServices, MANAGES_TASKS } from '../services';
import type { SystemApi } from '../system';
import { backfillRoute } from './backfill-route';
import { tasksSystem } from './definition';
import { TASKS_BASE_PATH, taskRoutes } from './http';

/** InfluxDB's `/api/v2/tasks`, with their runs. Apart from the runner, which its bundle does not hold. */
export const tasksApi: SystemApi<ApiServices> = {
  source: import.meta.url,
  name: 'tasks-api',
  basePath: TASKS_BASE_PATH,
  resource: 'tasks',
  tag: 'Tasks',
  table: [...MANAGES_TASKS, TASK_STORE.listsAcrossOrgs, ...LABELLED_RESOURCE],
  enqueue: true,
  sealsSecrets: true,
  needs: ['table', 'runsQueue', 'secretsKey'],
  routes: ({ get }) => {
    const tasks = get(taskService).forSystem(tasksSystem);
    const runs = get(runService).forSystem(tasks);
    const labels = get(labelStore);
    return [
      ...taskRoutes(tasks, get(targetPolicy), get(secretBox), attachedLabels(labels, 'task')),
      ...labelMappingRoutes(
        { kind: 'task', basePath: TASKS_BASE_PATH, load: (access, id) => tasks.get(access, id) },
        labels,
      ),
      ...runRoutes(TASKS_BASE_PATH, runs),
      backfillRoute(TASKS_BASE_PATH, runs),
    ];
  },
};
