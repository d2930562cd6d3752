import * as z from 'zod';
import { runStatusSchema, taskStatusSchema } from '../../task/model';

/**
 * The response fields every task-backed InfluxDB object (a check, a notification rule)
 * shares, in two blocks because each object puts its own fields between them: who the
 * task is first, then what its last run left and its timestamps.
 */
export const taskIdentityFields = {
  id: z.string(),
  taskID: z.string(),
  orgID: z.string(),
  name: z.string(),
  description: z.string(),
  status: taskStatusSchema,
};

export const taskRunStateFields = {
  latestCompleted: z.string().optional(),
  lastRunStatus: runStatusSchema.optional(),
  lastRunError: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
};
