import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { flattenMessage } from '../errors';
import { clampDelay, type RunQueue } from '../queue/run-queue';
import type { Run, RunMessage } from '../run/model';
import { policyRetryRunID } from '../run/run-ids';
import { parseDuration } from '../schedule/duration';
import { compileSchedule } from '../schedule/schedule';
import type { Lease, LeaseStore } from '../store/lease-store';
import type { RunStore } from '../store/run-store';
import type { TaskStore } from '../store/task-store';
import type { RunnerRegistry } from '../systems/system';
import type { Task } from '../task/model';
import { RunLog } from './run-log';

export interface ExecutorOptions {
  /** How long a claim (and a lease) lives without a heartbeat before another executor may take over. */
  claimTtlMs: number;
  heartbeatMs: number;
  /** How often a running run checks whether someone asked to cancel it. */
  cancelPollMs: number;
  /** Used when a task sets no timeout. */
  defaultTimeoutMs: number;
  /** Kept back from the Lambda deadline to write the final state. */
  safetyMarginMs: number;
  logLimitBytes: number;
  /** Backoff for runs waiting on a concurrency slot. */
  waitBaseDelaySeconds: number;
  waitMaxDelaySeconds: number;
}

export const DEFAULT_EXECUTOR_OPTIONS: ExecutorOptions = {
  claimTtlMs: 30_000,
  heartbeatMs: 10_000,
  cancelPollMs: 1_000,
  defaultTimeoutMs: 60_000,
  safetyMarginMs: 3_000,
  logLimitBytes: 64 * 1024,
  waitBaseDelaySeconds: 2,
  waitMaxDelaySeconds: 30,
};

export type Outcome = 'success' | 'failed' | 'canceled' | 'dropped' | 'duplicate' | 'waiting' | 'deferred';

export interface RunResult {
  outcome: Outcome;
  run?: Run | undefined;
  reason?: string | undefined;
  /** startedAt − runAt for a first start, in ms. */
  lagMs?: number | undefined;
}

/** One run in flight: await it, or cancel it. */
export interface RunPromise {
  readonly runID: string;
  done(): Promise<RunResult>;
  cancel(): void;
}

export interface StartOptions {
  /** Lambda's `context.getRemainingTimeInMillis`; caps the run's timeout. */
  remainingTimeMs?: () => number;
}

export interface ExecutorDeps {
  tasks: TaskStore;
  runs: RunStore;
  leases: LeaseStore;
  queue: RunQueue;
  runners: RunnerRegistry;
  logger: Logger;
  now?: () => number;
  options?: Partial<ExecutorOptions>;
  /** Receives the schedule lag of each first start (the Lambda publishes it as a metric). */
  onLag?: (lagMs: number, task: Task) => void;
}

/** A message may arrive this early (SQS delays round down to whole seconds). */
const EARLY_WAIT_MS = 2_000;

class CanceledError extends Error {
  constructor() {
    super('run canceled');
  }
}

class TimeoutError extends Error {}

/** The abort switch of one run in flight; cancel is sticky so a late success still ends canceled. */
class Flight {
  readonly controller = new AbortController();
  canceled = false;

  cancel(): void {
    this.canceled = true;
    this.controller.abort(new CanceledError());
  }
}

export function createExecutor(deps: ExecutorDeps) {
  const now = deps.now ?? Date.now;
  const options = { ...DEFAULT_EXECUTOR_OPTIONS, ...deps.options };

  /** When a run is due. Scheduled instants shift by the task's offset; manual runs run at scheduledFor. */
  const runAtOf = (task: Task, message: RunMessage) =>
    Date.parse(message.scheduledFor) + (message.kind === 'scheduled' ? compileSchedule(task).offsetMs : 0);

  /**
   * Waiting for a slot never touches the message's receive count: the run goes back
   * as a new message and this one is acknowledged, so waiting can never dead-letter it.
   * The delay doubles with each wait (capped), and shrinks with the run's age so runs
   * scheduled earlier tend to come back first; jitter spreads out a thundering herd.
   */
  const waitDelaySeconds = (message: RunMessage, at: number) => {
    const backoff = Math.min(
      options.waitMaxDelaySeconds,
      options.waitBaseDelaySeconds * 2 ** Math.min(message.waits, 5),
    );
    const ageSeconds = Math.max(0, (at - Date.parse(message.scheduledFor)) / 1000);
    return Math.max(1, backoff - Math.floor(ageSeconds / 10)) + Math.random();
  };

  const claimable = (run: Run | undefined) => !run || run.status === 'scheduled' || run.status === 'started';

  function start(message: RunMessage, startOptions: StartOptions = {}): RunPromise {
    const flight = new Flight();
    const result = run(message, flight, startOptions);
    return { runID: message.runID, done: () => result, cancel: () => flight.cancel() };
  }

  async function run(message: RunMessage, flight: Flight, startOptions: StartOptions): Promise<RunResult> {
    const { controller } = flight;
    const task = await deps.tasks.get(message.taskID);
    if (!task) return { outcome: 'dropped', reason: 'task no longer exists' };
    if (message.kind === 'scheduled' && task.status !== 'active') {
      return { outcome: 'dropped', reason: 'task is inactive' };
    }
    if (
      message.kind === 'scheduled' &&
      message.revision !== undefined &&
      message.revision !== task.revision
    ) {
      return { outcome: 'dropped', reason: 'the task schedule changed after this run was queued' };
    }
    const runAt = runAtOf(task, message);
    const early = runAt - now();
    if (early > EARLY_WAIT_MS) {
      // Beyond SQS's 15-minute delay: wait in the queue again.
      await deps.queue.enqueueOne({ message, delaySeconds: clampDelay(early / 1000) });
      return { outcome: 'deferred', reason: 'not due yet' };
    }
    // SQS delays are whole seconds and rounded down; wait out the remainder here.
    if (early > 0) await new Promise((resolve) => setTimeout(resolve, early));
    const at = now();
    const system = deps.runners.get(task.type);

    const token = randomUUID();
    let lease: Lease | undefined;
    if (task.concurrency !== undefined) {
      // A duplicate delivery of a finished or live run must not take a slot from a waiting one.
      const existing = await deps.runs.get(task.id, message.runID);
      if (!claimable(existing) || (existing?.status === 'started' && existing.cancelRequested)) {
        return { outcome: 'duplicate', run: existing };
      }
      lease = await deps.leases.acquire(
        task.id,
        task.concurrency,
        { runID: message.runID, token },
        options.claimTtlMs,
        at,
      );
      if (!lease) {
        await deps.queue.enqueueOne({
          message: { ...message, waits: message.waits + 1 },
          delaySeconds: waitDelaySeconds(message, at),
        });
        return { outcome: 'waiting', reason: `all ${task.concurrency} concurrency slots are taken` };
      }
    }

    const claim = await deps.runs.claim({
      taskID: task.id,
      runID: message.runID,
      token,
      now: at,
      claimTtlMs: options.claimTtlMs,
      seed: {
        kind: message.kind,
        scheduledFor: message.scheduledFor,
        runAt: new Date(runAt).toISOString(),
        attempt: message.attempt,
      },
    });
    if (!claim.claimed) {
      if (lease) await deps.leases.release(lease);
      return { outcome: 'duplicate', run: claim.run, reason: `run is ${claim.run?.status ?? 'gone'}` };
    }

    const lagMs = claim.resumed ? undefined : at - runAt;
    if (lagMs !== undefined) deps.onLag?.(lagMs, task);

    const log = new RunLog(options.logLimitBytes, now);
    log.add(
      claim.resumed
        ? `run resumed (claim ${claim.run.claims}): the previous executor stopped without finishing`
        : `run started (attempt ${message.attempt}, scheduled for ${message.scheduledFor})`,
    );

    const timeoutMs = Math.max(
      1,
      Math.min(
        task.timeout ? parseDuration(task.timeout) * 1000 : options.defaultTimeoutMs,
        (startOptions.remainingTimeMs?.() ?? Number.POSITIVE_INFINITY) - options.safetyMarginMs,
      ),
    );
    const timers: NodeJS.Timeout[] = [];
    timers.push(
      setTimeout(() => controller.abort(new TimeoutError(`run timed out after ${timeoutMs} ms`)), timeoutMs),
    );
    timers.push(
      setInterval(() => {
        const expires = now() + options.claimTtlMs;
        void Promise.all([
          deps.runs.heartbeat(task.id, message.runID, token, expires),
          lease ? deps.leases.extend(lease, expires) : true,
        ])
          .then(([ownRun]) => {
            if (!ownRun) controller.abort(new Error('lost the claim on this run'));
          })
          .catch((error) => deps.logger.warn('heartbeat failed', { error, runID: message.runID }));
      }, options.heartbeatMs),
    );
    timers.push(
      setInterval(() => {
        void deps.runs
          .get(task.id, message.runID)
          .then((current) => {
            if (current?.cancelRequested) flight.cancel();
          })
          .catch((error) => deps.logger.warn('cancel poll failed', { error, runID: message.runID }));
      }, options.cancelPollMs),
    );
    for (const timer of timers) timer.unref?.();

    let status: 'success' | 'failed' | 'canceled' = 'success';
    let error: string | undefined;
    try {
      if (!system) throw new Error(`no runner is registered for task type "${task.type}"`);
      // Race the abort, so a runner that ignores its signal still ends on time.
      await Promise.race([
        system.runner({
          task,
          run: {
            taskID: task.id,
            runID: message.runID,
            scheduledFor: message.scheduledFor,
            attempt: message.attempt,
          },
          signal: controller.signal,
          log: (line) => log.add(line),
        }),
        new Promise<never>((_, reject) => {
          const abort = () => reject(controller.signal.reason);
          if (controller.signal.aborted) abort();
          controller.signal.addEventListener('abort', abort, { once: true });
        }),
      ]);
      if (flight.canceled) throw new CanceledError();
      log.add('run succeeded');
    } catch (caught) {
      status = flight.canceled || caught instanceof CanceledError ? 'canceled' : 'failed';
      error = status === 'canceled' ? 'run canceled' : flattenMessage(caught);
      log.add(status === 'canceled' ? 'run canceled' : `run failed: ${error}`);
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }

    let finished = await deps.runs.finish(task.id, message.runID, token, {
      status,
      finishedAt: new Date(now()).toISOString(),
      log: log.entries,
      error: status === 'failed' ? error : undefined,
    });
    if (!finished && status !== 'canceled') {
      // Cancel wins: a cancel that arrived after the runner finished still ends the run canceled.
      const current = await deps.runs.get(task.id, message.runID);
      if (current?.status === 'started' && current.cancelRequested) {
        status = 'canceled';
        log.add('run canceled');
        finished = await deps.runs.finish(task.id, message.runID, token, {
          status,
          finishedAt: new Date(now()).toISOString(),
          log: log.entries,
        });
      }
    }
    if (lease) await deps.leases.release(lease);
    if (!finished) {
      deps.logger.warn('run finished after losing its claim; result discarded', { runID: message.runID });
      return { outcome: 'duplicate', reason: 'lost the claim', lagMs };
    }

    await deps.tasks.recordCompletion(task.id, {
      scheduledFor: message.scheduledFor,
      finishedAt: finished.finishedAt ?? new Date(now()).toISOString(),
      status,
      error: status === 'failed' ? error : undefined,
    });
    if (status === 'failed') await scheduleRetry(task, message);
    return { outcome: status, run: finished, lagMs };
  }

  /** The task's retry policy: a new run per attempt, each recorded, with exponential backoff. */
  async function scheduleRetry(task: Task, message: RunMessage): Promise<void> {
    if (!task.retry || message.attempt > task.retry.attempts) return;
    const attempt = message.attempt + 1;
    const runID = policyRetryRunID(message.runID, Date.parse(message.scheduledFor), attempt);
    const delaySeconds = parseDuration(task.retry.backoff) * 2 ** (message.attempt - 1);
    const created = await deps.runs.create({
      id: runID,
      taskID: task.id,
      status: 'scheduled',
      kind: 'retry',
      scheduledFor: message.scheduledFor,
      requestedAt: new Date(now()).toISOString(),
      attempt,
      retryOf: message.runID,
      log: [],
    });
    if (!created) return;
    await deps.queue.enqueueOne({
      message: { ...message, runID, kind: 'retry', attempt, waits: 0 },
      delaySeconds: clampDelay(delaySeconds),
    });
  }

  return {
    start,
    /** The scheduler path: run one message to its end. */
    execute: (message: RunMessage, startOptions?: StartOptions) => start(message, startOptions).done(),
  };
}

export type Executor = ReturnType<typeof createExecutor>;
