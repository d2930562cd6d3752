import type { ApiServices, RunnerServices } from '../services';
import { defineSystemModule } from '../system';
import { tasksApi } from './api';
import { tasksEngine } from './engine';

/** User-defined scheduled tasks: InfluxDB's `/api/v2/tasks`, each run calling its target. */
export const tasksModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'tasks',
  apis: [tasksApi],
  engine: tasksEngine,
});
