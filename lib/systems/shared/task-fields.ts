import * as z from 'zod';
import {
  jitterSchema,
  runStatusSchema,
  type Task,
  taskDefinitionFields,
  taskStatusSchema,
  timeBoundSchema,
} from '../../task/model';

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

/**
 * Jitter and time bounds, which every task-backed object takes as the user-task API
 * does (docs/decisions/0019): in create bodies, in update bodies (`null` clears), and
 * in responses.
 */
export const scheduleExtraFields = {
  jitter: taskDefinitionFields.jitter,
  startAt: taskDefinitionFields.startAt,
  endAt: taskDefinitionFields.endAt,
};

export const scheduleExtraPatchFields = {
  jitter: jitterSchema.nullable().optional(),
  startAt: timeBoundSchema.nullable().optional(),
  endAt: timeBoundSchema.nullable().optional(),
};

export const scheduleExtraResponseFields = {
  jitter: z.string().optional(),
  startAt: z.string().optional(),
  endAt: z.string().optional(),
};

/** A task's jitter and bounds, as a response or a definition carries them. */
export const scheduleExtrasOf = (task: Pick<Task, 'jitter' | 'startAt' | 'endAt'>) => ({
  jitter: task.jitter,
  startAt: task.startAt,
  endAt: task.endAt,
});

/**
 * Fields InfluxDB's clients send back with a task-backed object they read (a PUT is
 * often a GET's answer, edited): derived or read-only in Rota, so accepted and ignored.
 */
export const readOnlyTaskFields = {
  id: z.string().optional(),
  taskID: z.string().optional(),
  ownerID: z.string().optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  latestCompleted: z.string().optional(),
  lastRunStatus: z.string().optional(),
  lastRunError: z.string().optional(),
  labels: z.array(z.unknown()).optional(),
  links: z.record(z.string(), z.unknown()).optional(),
};
