import { clampDelay } from '../queue/run-queue';
import type { RunMessage } from '../run/model';
import type { Task } from '../task/model';
import { type ExecutorContext, runAtOf } from './context';
import type { RunResult } from './model';

/**
 * A message this early runs at once. The scheduler rounds delays to the nearest whole
 * second, so a run arrives at most half a second early (manual runs and re-sends round
 * down: up to a second); beyond that it was delayed past SQS's 15 minutes and waits again.
 */
const EARLY_RUN_MS = 2_000;

/** A message admitted to run now: its task, and when the run was due. */
export interface Due {
  task: Task;
  runAt: number;
}

/**
 * Admission: a message runs only for a task that still wants it, and only once it is
 * due. One that must not run is dropped (a run of an old revision too, however far ahead
 * it was planned); one far too early waits in the queue again.
 */
export async function admit(ctx: ExecutorContext, message: RunMessage): Promise<Due | RunResult> {
  const task = await ctx.deps.tasks.get(message.taskID);
  const dropReason = whyDropped(task, message);
  if (!task || dropReason) return drop(ctx, message, dropReason ?? 'task no longer exists');

  const runAt = runAtOf(task, message);
  const early = runAt - ctx.now();
  if (early > EARLY_RUN_MS) {
    // Beyond SQS's 15-minute delay: wait in the queue again.
    await ctx.deps.queue.enqueueOne({ message, delaySeconds: clampDelay(early / 1000) });
    return { outcome: 'deferred', reason: 'not due yet' };
  }
  // No sleep for the sub-second remainder: a Lambda billed for waiting costs ten times a
  // run (docs/decisions/0014). The run starts within half a second of its instant.
  return { task, runAt };
}

/** Why a message must not run, if it must not. */
function whyDropped(task: Task | undefined, message: RunMessage): string | undefined {
  if (!task) return 'task no longer exists';
  if (message.kind === 'scheduled' && task.status !== 'active') return 'task is inactive';
  if (message.kind === 'backfill' && task.status !== 'active') return 'task is inactive';
  if (message.kind === 'scheduled' && message.revision !== undefined && message.revision !== task.revision) {
    return 'the task schedule changed after this run was queued';
  }
  return undefined;
}

/** A run that will never run ends `canceled` if it was stored, so nothing keeps it open. */
async function drop(ctx: ExecutorContext, message: RunMessage, reason: string): Promise<RunResult> {
  const ended = await ctx.deps.runs.abandon(
    message.taskID,
    message.runID,
    ctx.now(),
    `run dropped: ${reason}`,
  );
  return { outcome: 'dropped', reason, run: ended };
}
