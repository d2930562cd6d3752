import * as z from 'zod';
import { runStatusSchema } from '../task/model';
import { named } from './route';

/** One log line of a run, as InfluxDB's LogEvent. */
export const logEventSchema = z.object({ runID: z.string(), time: z.string(), message: z.string() });
export const logEventsSchema = named('Logs', z.object({ events: z.array(logEventSchema) }));

/** InfluxDB's Run object, plus Rota's attempt bookkeeping. */
export const runSchema = named(
  'Run',
  z.object({
    id: z.string(),
    taskID: z.string(),
    status: runStatusSchema,
    scheduledFor: z.string(),
    runAt: z.string().optional(),
    requestedAt: z.string().optional(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    attempt: z.number().int(),
    retryOf: z.string().optional(),
    error: z.string().optional(),
    log: z.array(logEventSchema),
    links: z.object({ self: z.string(), task: z.string(), logs: z.string(), retry: z.string() }),
  }),
);

export const runsSchema = named(
  'Runs',
  z.object({ runs: z.array(runSchema), links: z.object({ self: z.string(), task: z.string() }) }),
);
