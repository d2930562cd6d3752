import type { Logger } from '@aws-lambda-powertools/logger';
import { ConflictError, InvalidError, NotFoundError } from '../errors';
import type { ListRunsQuery, RunStore } from '../store/run-store';
import type { Task } from '../task/model';
import type { Access, ScopedTaskService } from '../task/task-service';
import { isFinal, type Run, type RunLogEntry } from './model';
import { clampDelay, type RunQueue } from './queue-port';
import { freshRunID } from './run-ids';

export interface RunServiceDeps {
  runs: RunStore;
  queue: RunQueue | undefined;
  logger: Logger;
  /** How long after its due time an accepted run that has not started counts as stalled (the reconciler then sends it). */
  stallGraceMs: number;
  now?: () => number;
}

export interface LogEvent extends RunLogEntry {
  runID: string;
}

/** How many recent runs a task-wide log read covers. */
const TASK_LOG_RUNS = 100;

/**
 * The runs API for one system: every call first resolves the task through the
 * system's scoped TaskService, so runs of another type's or another org's task are
 * `not found`, exactly like the task itself.
 */
export function createRunService(deps: RunServiceDeps) {
  const now = deps.now ?? Date.now;
  const queue = () => {
    if (!deps.queue) throw new Error('ROTA_RUNS_QUEUE_URL is not configured');
    return deps.queue;
  };

  function forSystem<M extends Record<string, unknown>>(tasks: ScopedTaskService<M>) {
    const loadRun = async (
      access: Access,
      taskID: string,
      runID: string,
    ): Promise<{ task: Task; run: Run }> => {
      const task = await tasks.get(access, taskID);
      const run = await deps.runs.get(task.id, runID);
      if (!run) throw new NotFoundError('run not found');
      return { task, run };
    };

    /**
     * Every accepted run is stored first, in the open index, then sent. If the send fails
     * the run is still accepted: the reconciler finds it once it is overdue and sends it
     * then. Answering an error instead would invite a retry that creates a second run.
     */
    const accept = async (run: Run, dueAt: number): Promise<Run> => {
      const runs = queue();
      await deps.runs.create(run, dueAt + deps.stallGraceMs);
      try {
        await runs.enqueueOne({
          message: {
            taskID: run.taskID,
            runID: run.id,
            scheduledFor: run.scheduledFor,
            kind: run.kind,
            attempt: run.attempt,
            waits: 0,
          },
          delaySeconds: clampDelay((dueAt - now()) / 1000),
        });
      } catch (error) {
        deps.logger.warn('run accepted but not enqueued; the reconciler will send it', {
          error,
          taskID: run.taskID,
          runID: run.id,
        });
      }
      return run;
    };

    return {
      async list(access: Access, taskID: string, query: ListRunsQuery): Promise<Run[]> {
        const task = await tasks.get(access, taskID);
        return deps.runs.list(task.id, query);
      },

      async get(access: Access, taskID: string, runID: string): Promise<Run> {
        return (await loadRun(access, taskID, runID)).run;
      },

      /** A manual run; a future `scheduledFor` waits in the queue until then. */
      async runNow(access: Access, taskID: string, scheduledFor?: string): Promise<Run> {
        const task = await tasks.get(access, taskID);
        const at = now();
        const when = scheduledFor ? Date.parse(scheduledFor) : at;
        if (Number.isNaN(when)) throw new InvalidError('scheduledFor must be an RFC3339 time');
        const run: Run = {
          id: freshRunID(when),
          taskID: task.id,
          status: 'scheduled',
          kind: 'manual',
          scheduledFor: new Date(when).toISOString(),
          requestedAt: new Date(at).toISOString(),
          attempt: 1,
          log: [],
        };
        return accept(run, when);
      },

      /** A new run of the same instant, queued at once; the original stays as it ended. */
      async retry(access: Access, taskID: string, runID: string): Promise<Run> {
        const { task, run: original } = await loadRun(access, taskID, runID);
        if (!isFinal(original.status))
          throw new ConflictError(`run is ${original.status}; only a finished run can be retried`);
        const at = now();
        const run: Run = {
          id: freshRunID(Date.parse(original.scheduledFor)),
          taskID: task.id,
          status: 'scheduled',
          kind: 'retry',
          scheduledFor: original.scheduledFor,
          requestedAt: new Date(at).toISOString(),
          attempt: original.attempt + 1,
          retryOf: original.id,
          log: [],
        };
        // Due now, not at the original instant.
        return accept(run, at);
      },

      /**
       * Cancels a queued run, or a started one no live executor holds, at once; asks the
       * executor of a running one to stop.
       */
      async cancel(access: Access, taskID: string, runID: string): Promise<void> {
        const task = await tasks.get(access, taskID);
        const outcome = await deps.runs.requestCancel(task.id, runID, now());
        if (outcome === 'missing') throw new NotFoundError('run not found');
        if (outcome === 'final') throw new ConflictError('run has already finished');
      },

      async runLogs(access: Access, taskID: string, runID: string): Promise<LogEvent[]> {
        const { run } = await loadRun(access, taskID, runID);
        return run.log.map((entry) => ({ runID: run.id, ...entry }));
      },

      async taskLogs(access: Access, taskID: string): Promise<LogEvent[]> {
        const task = await tasks.get(access, taskID);
        const runs = await deps.runs.list(task.id, { limit: TASK_LOG_RUNS });
        return runs
          .flatMap((run) => run.log.map((entry) => ({ runID: run.id, ...entry })))
          .sort((a, b) => a.time.localeCompare(b.time));
      },
    };
  }

  return { forSystem };
}

export type RunService = ReturnType<typeof createRunService>;
export type ScopedRunService = ReturnType<RunService['forSystem']>;
