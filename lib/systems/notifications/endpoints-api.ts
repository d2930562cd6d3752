import { targetPolicy, taskService } from '../../composition/core';
import { secretBox } from '../../composition/secrets';
import { TASK_STORE } from '../../store/table-uses';
import type { Access } from '../../task/task-service';
import { attachedLabels, labelMappingRoutes } from '../labels/mapping-routes';
import { labelStore } from '../labels/parts';
import { LABELLED_RESOURCE } from '../labels/table-uses';
import type { ApiServices } from '../services';
import type { SystemApi } from '../system';
import { ENDPOINTS_BASE_PATH, endpointRoutes, loadEndpoint } from './endpoint-http';
import { endpointStore } from './parts';
import { notificationRulesSystem } from './rule-model';
import { ENDPOINT_STORE } from './table-uses';

/** `/api/v2/notificationEndpoints`: plain items, not tasks; a rule names one. */
export const endpointsApi: SystemApi<ApiServices> = {
  source: import.meta.url,
  name: 'notification-endpoints-api',
  basePath: ENDPOINTS_BASE_PATH,
  resource: 'notificationEndpoints',
  tag: 'Notification endpoints',
  table: [ENDPOINT_STORE.manage, TASK_STORE.lists, ...LABELLED_RESOURCE],
  enqueue: false,
  sealsSecrets: true,
  needs: ['table', 'secretsKey'],
  routes: ({ get }) => {
    const rules = get(taskService).forSystem(notificationRulesSystem);
    const endpoints = get(endpointStore);
    const labels = get(labelStore);
    const load = (access: Access, id: string) => loadEndpoint(endpoints, access, id);
    return [
      ...endpointRoutes(
        endpoints,
        rules,
        get(targetPolicy),
        get(secretBox),
        attachedLabels(labels, 'notificationEndpoint'),
      ),
      ...labelMappingRoutes({ kind: 'notificationEndpoint', basePath: ENDPOINTS_BASE_PATH, load }, labels),
    ];
  },
};
