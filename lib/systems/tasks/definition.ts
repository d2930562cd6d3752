import { defineSystem } from '../system';
import { type TaskMetadata, taskMetadataSchema } from './api-schemas';

/** User-defined scheduled tasks: the InfluxDB-compatible `/api/v2/tasks` system. */
export const tasksSystem = defineSystem<TaskMetadata>({
  type: 'task',
  metadata: taskMetadataSchema,
});
