import type { Logger } from '@aws-lambda-powertools/logger';
import { ConflictError, InvalidError, NotFoundError } from '../errors';
import type { LeaseStore } from '../store/lease-store';
import type { ListRunsQuery, RunStore } from '../store/run-store';
import type { Task } from '../task/model';
import type { Access, ScopedTaskService } from '../task/task-service';
import { type BackfillRequest, type BackfillResult, backfill } from './backfill';
import { acceptedRun, isFinal, type Run, type RunLogEntry } from './model';
import { clampDelay, type RunQueue } from './queue-port';
import { freshRunID } from './run-ids';

export interface RunServiceDeps {
  runs: RunStore;
  /** Backfilled runs of a capped task are marked waiting, so they start oldest first. */
  leases: LeaseStore;
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

/** The one call the runs API makes on a system's TaskService scope: resolving the task. */
export type TaskLookup = Pick<ScopedTaskService<Record<string, unknown>>, 'get'>;

/** The runs API for one system. */
export interface ScopedRunService {
  list(access: Access, taskID: string, query: ListRunsQuery): Promise<Run[]>;
  get(access: Access, taskID: string, runID: string): Promise<Run>;
  /** A manual run; a future `scheduledFor` waits in the queue until then. */
  runNow(access: Access, taskID: string, scheduledFor?: string): Promise<Run>;
  /** A new run of the same instant, queued at once; the original stays as it ended. */
  retry(access: Access, taskID: string, runID: string): Promise<Run>;
  /**
   * Cancels a queued run, or a started one no live executor holds, at once; asks the
   * executor of a running one to stop.
   */
  cancel(access: Access, taskID: string, runID: string): Promise<void>;
  runLogs(access: Access, taskID: string, runID: string): Promise<LogEvent[]>;
  taskLogs(access: Access, taskID: string): Promise<LogEvent[]>;
  /** One run per schedule instant in `[start, end)`, each stored before this answers (lib/run/backfill.ts). */
  backfill(access: Access, taskID: string, request: BackfillRequest): Promise<BackfillResult>;
}

export interface RunService {
  forSystem(tasks: TaskLookup): ScopedRunService;
}

/** What each operation of one system's runs API works with. */
interface SystemRuns {
  readonly tasks: TaskLookup;
  readonly runs: RunStore;
  readonly leases: LeaseStore;
  readonly queue: RunQueue | undefined;
  readonly logger: Logger;
  readonly stallGraceMs: number;
  readonly now: () => number;
}

async function loadRun(
  scope: SystemRuns,
  access: Access,
  taskID: string,
  runID: string,
): Promise<{ task: Task; run: Run }> {
  const task = await scope.tasks.get(access, taskID);
  const run = await scope.runs.get(task.id, runID);
  if (!run) throw new NotFoundError('run not found');
  return { task, run };
}

/**
 * Every accepted run is stored first, in the open index, then sent. If the send fails
 * the run is still accepted: the reconciler finds it once it is overdue and sends it
 * then. Answering an error instead would invite a retry that creates a second run.
 */
async function accept(scope: SystemRuns, run: Run, dueAt: number): Promise<Run> {
  if (!scope.queue) throw new Error('ROTA_RUNS_QUEUE_URL is not configured');
  const queue = scope.queue;
  await scope.runs.create(run, dueAt + scope.stallGraceMs);
  try {
    await queue.enqueueOne({
      message: {
        taskID: run.taskID,
        runID: run.id,
        scheduledFor: run.scheduledFor,
        kind: run.kind,
        attempt: run.attempt,
        waits: 0,
      },
      delaySeconds: clampDelay((dueAt - scope.now()) / 1000),
    });
  } catch (error) {
    scope.logger.warn('run accepted but not enqueued; the reconciler will send it', {
      error,
      taskID: run.taskID,
      runID: run.id,
    });
  }
  return run;
}

async function listRuns(scope: SystemRuns, access: Access, taskID: string, query: ListRunsQuery) {
  const task = await scope.tasks.get(access, taskID);
  return scope.runs.list(task.id, query);
}

async function runNow(scope: SystemRuns, access: Access, taskID: string, scheduledFor?: string) {
  const task = await scope.tasks.get(access, taskID);
  // InfluxDB's contract: `inactive` "prevents manual runs of the task".
  if (task.status === 'inactive') {
    throw new InvalidError('task is inactive: status must be active to run it manually');
  }
  const at = scope.now();
  const when = scheduledFor ? Date.parse(scheduledFor) : at;
  if (Number.isNaN(when)) throw new InvalidError('scheduledFor must be an RFC3339 time');
  const run = acceptedRun({
    id: freshRunID(when),
    taskID: task.id,
    kind: 'manual',
    scheduledFor: when,
    requestedAt: at,
  });
  return accept(scope, run, when);
}

async function retryRun(scope: SystemRuns, access: Access, taskID: string, runID: string) {
  const { task, run: original } = await loadRun(scope, access, taskID, runID);
  if (!isFinal(original.status))
    throw new ConflictError(`run is ${original.status}; only a finished run can be retried`);
  const at = scope.now();
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
  return accept(scope, run, at);
}

async function cancelRun(scope: SystemRuns, access: Access, taskID: string, runID: string) {
  const task = await scope.tasks.get(access, taskID);
  const outcome = await scope.runs.requestCancel(task.id, runID, scope.now());
  if (outcome === 'missing') throw new NotFoundError('run not found');
  if (outcome === 'final') throw new ConflictError('run has already finished');
}

async function backfillTask(scope: SystemRuns, access: Access, taskID: string, request: BackfillRequest) {
  const task = await scope.tasks.get(access, taskID);
  if (!scope.queue) throw new Error('ROTA_RUNS_QUEUE_URL is not configured');
  return backfill({ ...scope, queue: scope.queue }, task, request);
}

const logEventsOf = (run: Run): LogEvent[] => run.log.map((entry) => ({ runID: run.id, ...entry }));

async function runLogs(scope: SystemRuns, access: Access, taskID: string, runID: string) {
  const { run } = await loadRun(scope, access, taskID, runID);
  return logEventsOf(run);
}

async function taskLogs(scope: SystemRuns, access: Access, taskID: string) {
  const task = await scope.tasks.get(access, taskID);
  const runs = await scope.runs.list(task.id, { limit: TASK_LOG_RUNS });
  return runs.flatMap(logEventsOf).sort((a, b) => a.time.localeCompare(b.time));
}

/**
 * The runs API for one system: every call first resolves the task through the
 * system's scoped TaskService, so runs of another type's or another org's task are
 * `not found`, exactly like the task itself.
 */
export function createRunService(deps: RunServiceDeps): RunService {
  const now = deps.now ?? Date.now;
  const forSystem = (tasks: TaskLookup): ScopedRunService => {
    const scope: SystemRuns = { ...deps, tasks, now };
    return {
      list: (access, taskID, query) => listRuns(scope, access, taskID, query),
      get: async (access, taskID, runID) => (await loadRun(scope, access, taskID, runID)).run,
      runNow: (access, taskID, scheduledFor) => runNow(scope, access, taskID, scheduledFor),
      retry: (access, taskID, runID) => retryRun(scope, access, taskID, runID),
      cancel: (access, taskID, runID) => cancelRun(scope, access, taskID, runID),
      runLogs: (access, taskID, runID) => runLogs(scope, access, taskID, runID),
      taskLogs: (access, taskID) => taskLogs(scope, access, taskID),
      backfill: (access, taskID, request) => backfillTask(scope, access, taskID, request),
    };
  };
  return { forSystem };
}
