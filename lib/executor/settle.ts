import { clampDelay } from '../queue/run-queue';
import type { Run } from '../run/model';
import { policyRetryRunID } from '../run/run-ids';
import { parseDuration } from '../schedule/duration';
import { asCompletion } from '../task/completions';
import type { Task } from '../task/model';
import type { ExecutorContext } from './context';
import type { Claimed, FinalStatus, RunResult } from './model';
import type { RunLog } from './run-log';
import type { Ended } from './supervisor';

/**
 * Settles a run the runner finished: the final write (if the run is still ours), the
 * slot given back, then the task's bookkeeping and the policy retry.
 */
export async function settle(
  ctx: ExecutorContext,
  claimed: Claimed,
  ended: Ended,
  log: RunLog,
): Promise<RunResult> {
  const { task, message } = claimed;
  const finished = await writeFinal(ctx, claimed, ended, log);
  if (claimed.lease) await ctx.gate.release(task, claimed.lease, ctx.now());
  if (!finished) {
    ctx.deps.logger.warn('run finished after losing its claim; result discarded', { runID: message.runID });
    return { outcome: 'duplicate', reason: 'lost the claim' };
  }
  await completeFinished(ctx, task, finished);
  return { outcome: finished.status as FinalStatus, run: finished };
}

/** The final write, if the run is still ours. Cancel wins over a result that raced it. */
async function writeFinal(
  ctx: ExecutorContext,
  claimed: Claimed,
  ended: Ended,
  log: RunLog,
): Promise<Run | undefined> {
  const { task, message, token } = claimed;
  const finish = (status: FinalStatus) =>
    ctx.deps.runs.finish(task.id, message.runID, token, {
      status,
      finishedAt: new Date(ctx.now()).toISOString(),
      log: log.entries,
      error: status === 'failed' ? ended.error : undefined,
    });
  const finished = await finish(ended.status);
  if (finished || ended.status === 'canceled') return finished;
  // A cancel that arrived after the runner finished still ends the run canceled.
  const current = await ctx.deps.runs.get(task.id, message.runID);
  if (current?.status !== 'started' || !current.cancelRequested) return undefined;
  log.add('run canceled');
  return finish('canceled');
}

/**
 * What follows a final run: the task's latest* bookkeeping and the policy retry. Both
 * are idempotent, so a redelivered message for a finished run repeats them safely and
 * completes what an executor that died after `finish` left undone.
 */
export async function completeFinished(ctx: ExecutorContext, task: Task, run: Run): Promise<void> {
  const status = run.status as FinalStatus;
  // A run canceled before it started never completed: asCompletion leaves it out. The
  // store writes nothing when the task's checkpoint already shows this outcome.
  const completion = asCompletion({
    ...run,
    finishedAt: run.finishedAt ?? new Date(ctx.now()).toISOString(),
  });
  if (completion) await ctx.deps.tasks.recordCompletion(task.id, completion, task);
  if (status === 'failed') await ensureRetry(ctx, task, run);
}

/**
 * The task's retry policy: a new run per attempt, each recorded, with exponential
 * backoff. Its ID is deterministic, so a second call finds it; one still `scheduled`
 * is sent again (its first message may never have left).
 */
async function ensureRetry(ctx: ExecutorContext, task: Task, failed: Run): Promise<void> {
  if (!task.retry || failed.attempt > task.retry.attempts) return;
  const { deps, now } = ctx;
  const attempt = failed.attempt + 1;
  const runID = policyRetryRunID(failed.id, Date.parse(failed.scheduledFor), attempt);
  const backoffMs = parseDuration(task.retry.backoff) * 1000 * 2 ** (failed.attempt - 1);
  const dueAt = Date.parse(failed.finishedAt ?? new Date(now()).toISOString()) + backoffMs;
  const created = await deps.runs.create(
    {
      id: runID,
      taskID: task.id,
      status: 'scheduled',
      kind: 'retry',
      scheduledFor: failed.scheduledFor,
      requestedAt: new Date(now()).toISOString(),
      attempt,
      retryOf: failed.id,
      log: [],
    },
    dueAt + ctx.options.claimTtlMs,
  );
  if (!created && (await deps.runs.get(task.id, runID))?.status !== 'scheduled') return;
  await deps.queue.enqueueOne({
    message: { taskID: task.id, runID, scheduledFor: failed.scheduledFor, kind: 'retry', attempt, waits: 0 },
    delaySeconds: clampDelay(Math.ceil((dueAt - now()) / 1000)),
  });
}
