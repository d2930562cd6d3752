import { clampDelay } from '../queue/run-queue';
import type { RunMessage } from '../run/model';
import type { RunState } from '../store/run-store';
import type { Task } from '../task/model';
import { type ExecutorContext, seedOf } from './context';
import type { Claimed, RunResult, Slotted, StartOptions } from './model';
import { completeFinished } from './settle';

/** The run to claim: the due task and message, this executor's token, and the slot it holds. */
export interface ClaimRequest {
  task: Task;
  message: RunMessage;
  runAt: number;
  token: string;
  at: number;
  timeoutMs: number;
  slotted: Slotted;
}

/**
 * Claims the run for this executor. A run it cannot claim gives back its slot and ends
 * this delivery as what the stored run says (a duplicate, a deferral, a completion).
 */
export async function claimRun(
  ctx: ExecutorContext,
  request: ClaimRequest,
  startOptions: StartOptions,
): Promise<Claimed | RunResult> {
  const { task, message, at, timeoutMs, slotted } = request;
  const { deps, options } = ctx;
  const { lease } = slotted;
  // The claim's token is the slot's, so a reclaim can move back exactly the run that held it.
  const token = lease?.token ?? request.token;
  // Runs stored before they start (manual, retries, waiters) carry the open index; the
  // claim moves their stall time to when a live executor must have finished them.
  const indexed = message.kind !== 'scheduled' || slotted.indexed;
  const claim = await deps.runs.claim({
    taskID: task.id,
    runID: message.runID,
    token,
    now: at,
    claimTtlMs: options.claimTtlMs,
    seed: seedOf(task, message),
    stallAt: indexed ? at + timeoutMs + options.claimTtlMs : undefined,
    // A run that waited was woken by a message that now carries it: on a crash SQS delivers
    // it again and the expired claim lets it resume, as for a plain run. Moving its stall
    // time in the index (a delete and a put there) and removing it at the end cost two
    // index writes more than leaving the index now.
    leaveOpenIndex: slotted.wasWaiting,
  });
  if (!claim.claimed) {
    // A handed-over slot is shared by every copy of the run's message: the copy that
    // claimed the run keeps it. Only a run that will not start gives it back.
    const keep = slotted.handedOver && claim.state?.run.status === 'started';
    if (lease && !keep) await ctx.gate.release(task, lease, ctx.now());
    return (
      (await settleUnclaimable(ctx, task, message, claim.state, at, startOptions)) ??
      (await retryLater(ctx, message, claim.state))
    );
  }
  if (slotted.wasWaiting) await deps.leases.removeWaiter(task.id, message.runID);
  return {
    task,
    message,
    token,
    lease,
    runAt: request.runAt,
    startedAt: at,
    timeoutMs,
    resumed: claim.resumed,
    claims: claim.claims,
  };
}

/**
 * A message for a run this executor cannot claim. A finished run completes what its
 * executor may have left undone (bookkeeping, the policy retry). A run another
 * executor holds: a fresh copy is a duplicate (the holder's own message stays in
 * flight until it finishes), but a redelivered one may be that very message, back
 * because its executor died; it comes back when the claim would expire, so a dead
 * holder's run is never left without a message. Undefined when the run is claimable.
 */
export async function settleUnclaimable(
  ctx: ExecutorContext,
  task: Task,
  message: RunMessage,
  state: RunState | undefined,
  at: number,
  startOptions: StartOptions,
): Promise<RunResult | undefined> {
  const current = state?.run;
  if (!current || current.status === 'scheduled') return undefined;
  if (current.status === 'started') {
    const heldUntil = state.claimExpiresAt ?? 0;
    if (heldUntil < at) return undefined;
    if ((startOptions.receiveCount ?? 1) <= 1) {
      return { outcome: 'duplicate', run: current, reason: 'another executor holds this run' };
    }
    await ctx.deps.queue.enqueueOne({
      message,
      delaySeconds: clampDelay(Math.ceil((heldUntil - at) / 1000) + 1),
    });
    return { outcome: 'deferred', run: current, reason: 'another executor holds this run' };
  }
  await completeFinished(ctx, task, current);
  return { outcome: 'duplicate', run: current, reason: `run is ${current.status}` };
}

/** The claim lost a race that left the run claimable: try again shortly rather than drop it. */
async function retryLater(
  ctx: ExecutorContext,
  message: RunMessage,
  state: RunState | undefined,
): Promise<RunResult> {
  await ctx.deps.queue.enqueueOne({ message, delaySeconds: 1 });
  return { outcome: 'deferred', run: state?.run, reason: 'the claim lost a race; trying again' };
}
