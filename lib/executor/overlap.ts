import type { RunMessage } from '../run/model';
import type { RunState } from '../store/run-store';
import type { Overlap, Task } from '../task/model';
import { type ExecutorContext, seedOf } from './context';
import type { RunResult } from './model';

/** A backfilled run carries its own overlap; every other run follows its task (default `queue`). */
export const overlapOf = (task: Task, existing: RunState | undefined): Overlap =>
  existing?.run.overlap ?? task.overlap ?? 'queue';

/** Why a skipped instant did not run, as its error and log say. */
export const skipReason = (running: number) =>
  `run skipped: ${running} ${running === 1 ? 'run was' : 'runs were'} still running (overlap: skip)`;

/**
 * `overlap: skip`: the instant is recorded as a run that ended `canceled` without
 * starting. It never reaches the target, and, being no completion, leaves the task's
 * lastRunStatus alone.
 */
export async function skipInstant(
  ctx: ExecutorContext,
  task: Task,
  message: RunMessage,
  running: number,
  at: number,
): Promise<RunResult> {
  const reason = skipReason(running);
  const recorded = await ctx.deps.runs.skip(task.id, message.runID, seedOf(task, message), at, reason);
  // A waiting marker of this run (it waited under an earlier policy) would only be skipped over.
  await ctx.deps.leases.removeWaiter(task.id, message.runID);
  if (!recorded) return { outcome: 'duplicate', reason: 'the run already started or ended' };
  return { outcome: 'canceled', reason, run: await ctx.deps.runs.get(task.id, message.runID) };
}

/**
 * `overlap: replace`: asks the oldest running run to stop (its executor's cancel poll
 * aborts its signal, and it ends `canceled`). The new run then waits first in line, so
 * the slot the old one releases hands over to it. Asking again on a redelivery is
 * harmless; an executor that dies mid-cancel leaves a slot whose reclaim ends the old
 * run rather than running it again (see ConcurrencyGate.reclaim).
 */
export async function replaceOldest(
  ctx: ExecutorContext,
  task: Task,
  message: RunMessage,
  at: number,
): Promise<string | undefined> {
  const oldest = await ctx.gate.oldestHolder(task, message.runID, at);
  if (!oldest) return undefined;
  const outcome = await ctx.deps.runs.requestCancel(task.id, oldest.runID, at);
  if (outcome === 'requested' || outcome === 'canceled') {
    ctx.deps.logger.info('overlap replace: canceling the oldest running run', {
      taskID: task.id,
      runID: message.runID,
      replacedRunID: oldest.runID,
    });
    return oldest.runID;
  }
  return undefined;
}
