import { runService, taskService } from '../../composition/core';
import { runRoutes } from '../../http/run-routes';
import { attachedLabels, labelMappingRoutes } from '../labels/mapping-routes';
import { labelStore } from '../labels/parts';
import { LABELLED_RESOURCE } from '../labels/table-uses';
import { type ApiServices, MANAGES_TASKS } from '../services';
import type { SystemApi } from '../system';
import { endpointStore, notificationLogStore } from './parts';
import { RULES_BASE_PATH, ruleRoutes } from './rule-http';
import { notificationRulesSystem } from './rule-model';
import { ENDPOINT_STORE, NOTIFICATION_LOG_STORE } from './table-uses';

/** `/api/v2/notificationRules`, with their runs and what they sent. */
export const rulesApi: SystemApi<ApiServices> = {
  source: import.meta.url,
  name: 'notification-rules-api',
  basePath: RULES_BASE_PATH,
  resource: 'notificationRules',
  tag: 'Notification rules',
  table: [...MANAGES_TASKS, NOTIFICATION_LOG_STORE.reads, ENDPOINT_STORE.reads, ...LABELLED_RESOURCE],
  enqueue: true,
  needs: ['table', 'runsQueue'],
  routes: ({ get }) => {
    const rules = get(taskService).forSystem(notificationRulesSystem);
    const labels = get(labelStore);
    return [
      ...ruleRoutes(
        rules,
        get(endpointStore),
        get(notificationLogStore),
        attachedLabels(labels, 'notificationRule'),
      ),
      ...labelMappingRoutes(
        { kind: 'notificationRule', basePath: RULES_BASE_PATH, load: (access, id) => rules.get(access, id) },
        labels,
      ),
      ...runRoutes(RULES_BASE_PATH, get(runService).forSystem(rules)),
    ];
  },
};
