import { runRoutes } from '../../http/run-routes';
import { TASK_STORE } from '../../store/task-store';
import { STATUS_STORE } from '../checks/status-store';
import { type ApiServices, MANAGES_TASKS, type RunnerServices } from '../services';
import { defineSystemModule, engine } from '../system';
import { ENDPOINTS_BASE_PATH, endpointRoutes } from './endpoint-http';
import { ENDPOINT_STORE } from './endpoint-store';
import { NOTIFICATION_LOG_STORE } from './log-store';
import { RULES_BASE_PATH, ruleRoutes } from './rule-http';
import { notificationRulesSystem } from './rule-model';
import { createRuleRunner } from './rule-runner';

/**
 * Notification rules (tasks that read check statuses and notify) and the endpoints
 * they send to (plain items): two APIs, one `notifications` permission.
 */
export const notificationsModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'notifications',
  apis: [
    {
      name: 'notification-rules-api',
      basePath: RULES_BASE_PATH,
      resource: 'notifications',
      tag: 'Notification rules',
      table: [...MANAGES_TASKS, NOTIFICATION_LOG_STORE.reads, ENDPOINT_STORE.reads],
      enqueue: true,
      needs: ['table', 'runsQueue'],
      routes: ({ core }) => {
        const { taskService, runService, endpoints, notificationLog } = core();
        const rules = taskService.forSystem(notificationRulesSystem);
        return [
          ...ruleRoutes(rules, endpoints, notificationLog),
          ...runRoutes(RULES_BASE_PATH, runService.forSystem(rules)),
        ];
      },
    },
    {
      name: 'notification-endpoints-api',
      basePath: ENDPOINTS_BASE_PATH,
      resource: 'notifications',
      tag: 'Notification endpoints',
      table: [ENDPOINT_STORE.manage, TASK_STORE.lists],
      enqueue: false,
      sealsSecrets: true,
      needs: ['table', 'secretsKey'],
      routes: ({ core, secrets }) => {
        const { taskService, endpoints, targetPolicy } = core();
        const rules = taskService.forSystem(notificationRulesSystem);
        return endpointRoutes(endpoints, rules, targetPolicy, secrets());
      },
    },
  ],
  engine: engine(
    notificationRulesSystem,
    (rt) =>
      createRuleRunner({
        statuses: rt.statuses,
        endpoints: rt.endpoints,
        log: rt.notificationLog,
        policy: rt.targetPolicy,
        secrets: rt.secrets,
      }),
    [STATUS_STORE.orgReads, ENDPOINT_STORE.reads, NOTIFICATION_LOG_STORE.writes],
  ),
});
