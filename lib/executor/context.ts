import type { RunMessage } from '../run/model';
import { parseDuration } from '../schedule/duration';
import { compileSchedule } from '../schedule/schedule';
import type { Task } from '../task/model';
import { type ConcurrencyGate, createConcurrencyGate } from './concurrency';
import {
  DEFAULT_EXECUTOR_OPTIONS,
  type ExecutorDeps,
  type ExecutorOptions,
  type StartOptions,
} from './model';

/** What every step of a run shares: the stores, the clock, the options and the slot gate. */
export interface ExecutorContext {
  readonly deps: ExecutorDeps;
  readonly now: () => number;
  readonly random: () => number;
  readonly options: ExecutorOptions;
  readonly gate: ConcurrencyGate;
}

export function createExecutorContext(deps: ExecutorDeps): ExecutorContext {
  const options = { ...DEFAULT_EXECUTOR_OPTIONS, ...deps.options };
  return {
    deps,
    now: deps.now ?? Date.now,
    random: deps.random ?? Math.random,
    options,
    gate: createConcurrencyGate({ ...deps, claimTtlMs: options.claimTtlMs }),
  };
}

/**
 * When a run is due. Scheduled instants shift by the task's offset and their jitter;
 * manual, retry and backfill runs run at scheduledFor.
 */
export const runAtOf = (task: Task, message: RunMessage): number => {
  const scheduledFor = Date.parse(message.scheduledFor);
  return message.kind === 'scheduled' ? compileSchedule(task).runAt(task.id, scheduledFor) : scheduledFor;
};

/** The fields a run is created with when its first write is the claim or the wait. */
export const seedOf = (task: Task, message: RunMessage) => ({
  kind: message.kind,
  scheduledFor: message.scheduledFor,
  runAt: new Date(runAtOf(task, message)).toISOString(),
  attempt: message.attempt,
});

/** The task's timeout, capped by what the Lambda has left less the margin for the final write. */
export const timeoutOf = (ctx: ExecutorContext, task: Task, startOptions: StartOptions): number =>
  Math.max(
    1,
    Math.min(
      task.timeout ? parseDuration(task.timeout) * 1000 : ctx.options.defaultTimeoutMs,
      (startOptions.remainingTimeMs?.() ?? Number.POSITIVE_INFINITY) - ctx.options.safetyMarginMs,
    ),
  );
