import * as z from 'zod';
import { named, pageLinksSchema } from '../../http/route';
import { targetSchema } from '../../runners/target';
import {
  catchUpSchema,
  overlapSchema,
  retryPolicySchema,
  runStatusSchema,
  taskStatusSchema,
} from '../../task/model';
import { labelSchema } from '../labels/model';

const optionalString = z.string().optional();

/** The InfluxDB Task object, plus Rota's fields; secrets in target headers come back as `<redacted>`. */
export const taskSchema = named(
  'Task',
  z.object({
    id: z.string(),
    /** InfluxDB's task type: every task of this API is `basic`. */
    type: z.literal('basic'),
    orgID: z.string(),
    ownerID: optionalString,
    name: z.string(),
    description: z.string(),
    status: taskStatusSchema,
    flux: z.string(),
    every: optionalString,
    cron: optionalString,
    offset: optionalString,
    timezone: optionalString,
    jitter: optionalString,
    startAt: optionalString,
    endAt: optionalString,
    concurrency: z.number().int().optional(),
    timeout: optionalString,
    retry: retryPolicySchema.optional(),
    catchUp: catchUpSchema,
    overlap: overlapSchema,
    target: targetSchema,
    /** The labels attached to it (lib/systems/labels). */
    labels: z.array(labelSchema),
    /** The next instant that will run, computed from the schedule when the task is read. */
    nextRunAt: optionalString,
    /** The scheduler's cursor: every instant up to it has been sent to the runs queue. */
    scheduleCursor: optionalString,
    latestCompleted: optionalString,
    latestSuccess: optionalString,
    latestFailure: optionalString,
    lastRunStatus: runStatusSchema.optional(),
    lastRunError: optionalString,
    createdAt: z.string(),
    updatedAt: z.string(),
    links: z.object({
      self: z.string(),
      runs: z.string(),
      logs: z.string(),
    }),
  }),
);

export const tasksSchema = named('Tasks', z.object({ tasks: z.array(taskSchema), links: pageLinksSchema }));

/** A task's next scheduled instants, computed from its schedule. */
export const upcomingSchema = named(
  'UpcomingRuns',
  z.object({
    upcoming: z.array(
      z.object({
        /** The scheduled instant, as runs report it. */
        scheduledFor: z.string(),
        /** When it runs: scheduledFor + offset + jitter. */
        runAt: z.string(),
      }),
    ),
  }),
);
