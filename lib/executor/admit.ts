import { clampDelay } from '../queue/run-queue';
import type { RunMessage } from '../run/model';
import type { Task } from '../task/model';
import { type ExecutorContext, runAtOf } from './context';
import type { RunResult } from './model';

/** A message may arrive this early (SQS delays round down to whole seconds). */
const EARLY_WAIT_MS = 2_000;

/** A message admitted to run now: its task, and when the run was due. */
export interface Due {
  task: Task;
  runAt: number;
}

/**
 * Admission: a message runs only for a task that still wants it, and only once it is
 * due. One that must not run is dropped; one far too early waits in the queue again.
 */
export async function admit(ctx: ExecutorContext, message: RunMessage): Promise<Due | RunResult> {
  const task = await ctx.deps.tasks.get(message.taskID);
  const dropReason = whyDropped(task, message);
  if (!task || dropReason) return drop(ctx, message, dropReason ?? 'task no longer exists');

  const runAt = runAtOf(task, message);
  const early = runAt - ctx.now();
  if (early > EARLY_WAIT_MS) {
    // Beyond SQS's 15-minute delay: wait in the queue again.
    await ctx.deps.queue.enqueueOne({ message, delaySeconds: clampDelay(early / 1000) });
    return { outcome: 'deferred', reason: 'not due yet' };
  }
  // SQS delays are whole seconds and rounded down; wait out the remainder here.
  if (early > 0) await new Promise((resolve) => setTimeout(resolve, early));
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
