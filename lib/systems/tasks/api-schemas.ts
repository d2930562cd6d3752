import * as z from 'zod';
import { taskPagingQuery } from '../../http/paging';
import { targetSchema } from '../../runners/target';
import { LIMITS, taskDefinitionFields, taskPatchSchema } from '../../task/model';
import { MAX_UPCOMING } from '../../task/next-run';

/**
 * The user-task API's own shapes: InfluxDB's TaskCreateRequest/TaskUpdateRequest
 * fields, plus Rota's run policy and `target`. `type` is deliberately absent, so a
 * body that tries to set it is refused as an unknown field.
 */
export const taskCreateBody = z.strictObject({
  orgID: taskDefinitionFields.orgID.optional(),
  org: z.string().min(1).max(64).optional(),
  ownerID: taskDefinitionFields.ownerID,
  name: z.string().optional(),
  description: taskDefinitionFields.description,
  status: taskDefinitionFields.status,
  flux: z
    .string()
    .max(64 * 1024)
    .optional(),
  every: z.string().max(LIMITS.durationLength).optional(),
  cron: z.string().max(LIMITS.cronLength).optional(),
  offset: z.string().max(LIMITS.durationLength).optional(),
  timezone: z.string().max(LIMITS.timezoneLength).optional(),
  jitter: taskDefinitionFields.jitter,
  startAt: taskDefinitionFields.startAt,
  endAt: taskDefinitionFields.endAt,
  concurrency: taskDefinitionFields.concurrency,
  timeout: taskDefinitionFields.timeout,
  retry: taskDefinitionFields.retry,
  catchUp: taskDefinitionFields.catchUp,
  overlap: taskDefinitionFields.overlap,
  /** Without one, a task with `flux` runs its script on the deployment's InfluxDB. */
  target: targetSchema.optional(),
});
export type TaskCreateBody = z.infer<typeof taskCreateBody>;

export const taskUpdateBody = taskPatchSchema.safeExtend({
  flux: z
    .string()
    .max(64 * 1024)
    .optional(),
  target: targetSchema.optional(),
  metadata: z.never({ error: 'metadata is kept by the system; set target instead' }).optional(),
});
export type TaskUpdateBody = z.infer<typeof taskUpdateBody>;

/**
 * InfluxDB's task types: `basic` is a user's own task, which every task of this system
 * is; `system` tasks are InfluxDB's internal ones, which Rota has none of.
 */
export const INFLUX_TASK_TYPES = ['basic', 'system'] as const;
export const USER_TASK_TYPE = 'basic' satisfies (typeof INFLUX_TASK_TYPES)[number];

export const listTasksQuery = z.object({
  ...taskPagingQuery,
  /** The org listed; without it an org token lists its own, the operator every org's. */
  orgID: z.string().min(1).max(64).optional(),
  org: z.string().min(1).max(64).optional(),
  name: z.string().min(1).max(256).optional(),
  status: z.enum(['active', 'inactive']).optional(),
  /** The owner's user ID: only tasks whose ownerID it is. */
  user: z.string().min(1).max(64).optional(),
  type: z.enum(INFLUX_TASK_TYPES).optional(),
});

/** `GET /tasks/{id}/upcoming`: how many instants to list. */
export const upcomingQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_UPCOMING).default(10),
});

/** The metadata document the user-task system keeps on each of its tasks. */
export const taskMetadataSchema = z.strictObject({
  target: targetSchema,
  flux: z.string().optional(),
});
export type TaskMetadata = z.infer<typeof taskMetadataSchema>;
