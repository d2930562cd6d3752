import type { ApiServices, RunnerServices } from '../services';
import { defineSystemModule } from '../system';
import { endpointsApi } from './endpoints-api';
import { rulesEngine } from './engine';
import { rulesApi } from './rules-api';

/**
 * Notification rules (tasks that read check statuses and notify) and the endpoints
 * they send to (plain items): two APIs, one `notifications` permission.
 */
export const notificationsModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'notifications',
  apis: [rulesApi, endpointsApi],
  engine: rulesEngine,
});
