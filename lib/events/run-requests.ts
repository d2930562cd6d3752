import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import type { ScopedRunService, TaskLookup } from '../run/run-service';
import type { Task } from '../task/model';

/** The detail of a "Run Requested" event. */
export const runRequestSchema = z.object({
  taskID: z.string().min(1, 'taskID must be a task id').max(128),
  orgID: z.string().min(1, 'orgID must be the task\u2019s org').max(256),
  scheduledFor: z.iso.datetime({ offset: true, error: 'scheduledFor must be an RFC3339 time' }).optional(),
});

export interface RunRequestEvent {
  source?: string;
  'detail-type'?: string;
  detail?: unknown;
}

export type RunRequestOutcome =
  | { outcome: 'started'; runID: string }
  | { outcome: 'dropped'; reason: string };

export interface RunRequestDeps {
  /** Reads a task by id, whatever its system. */
  getTask(id: string): Promise<Task | undefined>;
  /** The run service scoped to a task already resolved. */
  runsFor(tasks: TaskLookup): ScopedRunService;
  /** Sources whose requests count (the construct's `runRequestSources`). */
  allowedSources: readonly string[];
  logger: Logger;
}

/**
 * "Run Requested" → a manual run. Everything that makes the request invalid (an unlisted
 * source, a bad detail, another org's task, a missing or inactive task) is logged and
 * dropped, never thrown: a retry would fail the same way forever.
 */
export function createRunRequestHandler(deps: RunRequestDeps) {
  const drop = (reason: string, context: Record<string, unknown>): RunRequestOutcome => {
    deps.logger.warn('run request dropped', { reason, ...context });
    return { outcome: 'dropped', reason };
  };
  return async (event: RunRequestEvent): Promise<RunRequestOutcome> => {
    const source = event.source ?? '';
    if (!deps.allowedSources.includes(source)) return drop('source not allowed', { source });
    const parsed = runRequestSchema.safeParse(event.detail);
    if (!parsed.success) {
      return drop(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), { source });
    }
    const { taskID, orgID, scheduledFor } = parsed.data;
    const task = await deps.getTask(taskID);
    if (!task || task.orgID !== orgID) return drop('no such task in this org', { source, taskID, orgID });
    if (task.status !== 'active') return drop('task is inactive', { source, taskID, orgID });
    const lookup: TaskLookup = { get: async () => task };
    const run = await deps.runsFor(lookup).runNow({ orgID }, taskID, scheduledFor);
    deps.logger.info('run requested', { source, taskID, orgID, runID: run.id });
    return { outcome: 'started', runID: run.id };
  };
}
