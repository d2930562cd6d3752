import { secretBox, targetPolicy, taskService } from '../../composition/core';
import { TASK_STORE } from '../../store/table-uses';
import type { ApiServices } from '../services';
import type { SystemApi } from '../system';
import { ENDPOINTS_BASE_PATH, endpointRoutes } from './endpoint-http';
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
  table: [ENDPOINT_STORE.manage, TASK_STORE.lists],
  enqueue: false,
  sealsSecrets: true,
  needs: ['table', 'secretsKey'],
  routes: ({ get }) => {
    const rules = get(taskService).forSystem(notificationRulesSystem);
    return endpointRoutes(get(endpointStore), rules, get(targetPolicy), get(secretBox));
  },
};
