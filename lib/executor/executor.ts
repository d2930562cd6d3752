import { randomUUID } from 'node:crypto';
import type { RunMessage } from '../run/model';
import { admit } from './admit';
import { claimRun } from './claim';
import { createExecutorContext, type ExecutorContext, timeoutOf } from './context';
import {
  type Claimed,
  type ExecutorDeps,
  isResult,
  type RunPromise,
  type RunResult,
  type StartOptions,
} from './model';
import { RunLog } from './run-log';
import { settle } from './settle';
import { acquireSlot } from './slot';
import { Flight, supervise } from './supervisor';

export {
  DEFAULT_EXECUTOR_OPTIONS,
  type ExecutorDeps,
  type ExecutorOptions,
  type Outcome,
  type RunPromise,
  type RunResult,
  type StartOptions,
} from './model';

/**
 * Runs one message's run through its steps: admit (is it wanted, is it due) → acquire
 * a slot (tasks with a concurrency limit) → claim → supervise (the runner under its
 * timers) → settle (the final write, bookkeeping, the policy retry). A step that ends
 * the delivery returns its result and the later steps do not run.
 */
export function createExecutor(deps: ExecutorDeps) {
  const ctx = createExecutorContext(deps);

  function start(message: RunMessage, startOptions: StartOptions = {}): RunPromise {
    const flight = new Flight();
    const result = run(ctx, message, flight, startOptions);
    return { runID: message.runID, done: () => result, cancel: () => flight.cancel() };
  }

  return {
    start,
    /** The scheduler path: run one message to its end. */
    execute: (message: RunMessage, startOptions?: StartOptions) => start(message, startOptions).done(),
  };
}

export type Executor = ReturnType<typeof createExecutor>;

async function run(
  ctx: ExecutorContext,
  message: RunMessage,
  flight: Flight,
  startOptions: StartOptions,
): Promise<RunResult> {
  const due = await admit(ctx, message);
  if (isResult(due)) return due;
  const { task, runAt } = due;
  const at = ctx.now();
  const token = randomUUID();
  const timeoutMs = timeoutOf(ctx, task, startOptions);

  const slotted = await acquireSlot(ctx, task, message, token, at, startOptions);
  if (isResult(slotted)) return slotted;
  const claimed = await claimRun(ctx, { task, message, runAt, token, at, timeoutMs, slotted }, startOptions);
  if (isResult(claimed)) return claimed;

  const lagMs = claimed.resumed ? undefined : at - runAt;
  if (lagMs !== undefined) ctx.deps.onLag?.(lagMs, task);
  const result = await runClaimed(ctx, claimed, flight);
  return { ...result, lagMs };
}

/** Runs a claimed run to its final write, then completes its bookkeeping. */
async function runClaimed(ctx: ExecutorContext, claimed: Claimed, flight: Flight): Promise<RunResult> {
  const log = new RunLog(ctx.options.logLimitBytes, ctx.now);
  log.add(
    claimed.resumed
      ? `run resumed (claim ${claimed.claims}): the previous executor stopped without finishing`
      : `run started (attempt ${claimed.message.attempt}, scheduled for ${claimed.message.scheduledFor})`,
  );
  const ended = await supervise(ctx, claimed, flight, log);
  return settle(ctx, claimed, ended, log);
}
