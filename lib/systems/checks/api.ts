import { runService, targetPolicy, taskService } from '../../composition/core';
import { secretBox } from '../../composition/secrets';
import { runRoutes } from '../../http/run-routes';
import { attachedLabels, labelMappingRoutes } from '../labels/mapping-routes';
import { labelStore } from '../labels/parts';
import { LABELLED_RESOURCE } from '../labels/table-uses';
import { type ApiServices, MANAGES_TASKS } from '../services';
import type { SystemApi } from '../system';
import { checksSystem } from './definition';
import { CHECKS_BASE_PATH, checkRoutes } from './http';
import { statusStore } from './parts';
import { STATUS_STORE } from './table-uses';

/** `/api/v2/checks`, with their runs and statuses. Apart from the runner, which its bundle does not hold. */
export const checksApi: SystemApi<ApiServices> = {
  source: import.meta.url,
  name: 'checks-api',
  basePath: CHECKS_BASE_PATH,
  resource: 'checks',
  tag: 'Checks',
  table: [...MANAGES_TASKS, STATUS_STORE.reads, ...LABELLED_RESOURCE],
  enqueue: true,
  sealsSecrets: true,
  needs: ['table', 'runsQueue', 'secretsKey'],
  routes: ({ get }) => {
    const checks = get(taskService).forSystem(checksSystem);
    const labels = get(labelStore);
    return [
      ...checkRoutes(
        checks,
        get(statusStore),
        get(targetPolicy),
        get(secretBox),
        attachedLabels(labels, 'check'),
      ),
      ...labelMappingRoutes(
        { kind: 'check', basePath: CHECKS_BASE_PATH, load: (access, id) => checks.get(access, id) },
        labels,
      ),
      ...runRoutes(CHECKS_BASE_PATH, get(runService).forSystem(checks)),
    ];
  },
};
