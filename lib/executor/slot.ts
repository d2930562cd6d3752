import { randomUUID } from 'node:crypto';
import type { RunMessage } from '../run/model';
import type { RunState } from '../store/run-store';
import type { Task } from '../task/model';
import { settleUnclaimable } from './claim';
import { type ExecutorContext, seedOf } from './context';
import type { RunResult, Slotted, StartOptions } from './model';
import { overlapOf, replaceOldest, skipInstant } from './overlap';

const UNLIMITED: Slotted = { lease: undefined, wasWaiting: false, indexed: false, handedOver: false };

/**
 * A slot for a run of a task with a concurrency limit: a lease, or the outcome that ends
 * this delivery (a duplicate, a deferral, or a wait). A duplicate delivery of a finished
 * or live run must not take a slot from a waiting one, so the run is read first. A task
 * with no limit needs no slot.
 */
export async function acquireSlot(
  ctx: ExecutorContext,
  task: Task,
  message: RunMessage,
  token: string,
  at: number,
  startOptions: StartOptions,
): Promise<Slotted | RunResult> {
  if (task.concurrency === undefined) return UNLIMITED;
  const existing = await ctx.deps.runs.inspect(task.id, message.runID);
  const settled = await settleUnclaimable(ctx, task, message, existing, at, startOptions);
  if (settled) return settled;
  const admission = await ctx.gate.admit(task, message, token, at);
  if ('waiting' in admission) return whenBusy(ctx, task, message, existing, admission, { token, at });
  return {
    lease: admission.lease,
    wasWaiting: admission.requeued || existing?.waiting === true,
    indexed: admission.requeued || existing?.openAt !== undefined,
    handedOver: admission.handedOver,
  };
}

/** This delivery's token and clock. */
interface Delivery {
  token: string;
  at: number;
}

/**
 * All slots are busy: the task's (or a backfill's) overlap decides. A run that already
 * started once (it resumes after a crash) is never skipped: it waits as any other.
 */
async function whenBusy(
  ctx: ExecutorContext,
  task: Task,
  message: RunMessage,
  existing: RunState | undefined,
  admission: { waiting: string; behind: boolean; running: number },
  delivery: Delivery,
): Promise<Slotted | RunResult> {
  const { at } = delivery;
  const overlap = overlapOf(task, existing);
  if (overlap === 'skip' && existing?.run.startedAt === undefined) {
    return skipInstant(ctx, task, message, admission.running, at);
  }
  if (overlap === 'replace' && !admission.behind) {
    const replaced = await replaceOldest(ctx, task, message, at);
    if (replaced) {
      return waitForSlot(
        ctx,
        task,
        message,
        existing,
        { ...admission, waiting: `replacing run ${replaced}; ${admission.waiting}` },
        delivery,
      );
    }
  }
  return waitForSlot(ctx, task, message, existing, admission, delivery);
}

/**
 * Stores the run as waiting (visible as `scheduled`, with why in its log) and sends it
 * back with a delay. Only one message carries a waiting run: a copy is acknowledged.
 */
async function waitForSlot(
  ctx: ExecutorContext,
  task: Task,
  message: RunMessage,
  existing: RunState | undefined,
  { waiting: reason, behind }: { waiting: string; behind: boolean },
  delivery: Delivery,
): Promise<Slotted | RunResult> {
  const { at } = delivery;
  const { deps } = ctx;
  const waitToken = randomUUID();
  let delaySeconds = waitDelaySeconds(ctx, message);
  const firstWait = existing?.waiting !== true;
  const stored = await deps.runs.wait({
    taskID: task.id,
    runID: message.runID,
    seed: seedOf(task, message),
    revision: message.kind === 'scheduled' ? message.revision : undefined,
    now: at,
    openAt: at + delaySeconds * 1000 + ctx.options.claimTtlMs,
    waitToken,
    expectedToken: message.waitToken,
    logLine: firstWait ? reason : undefined,
  });
  if (!stored.waiting) {
    return { outcome: 'duplicate', run: stored.state?.run, reason: 'another message carries this run' };
  }
  // Written on every wait, not only the first: a marker lost with an executor that died
  // between storing the run and writing it would leave the run invisible to hand-overs.
  await deps.leases.addWaiter(task.id, message.runID);
  // First in line: a slot freed between the look and the marker handed over to nobody,
  // so look once more, and take it in this delivery rather than through another message.
  // Behind older waiters, their hand-overs lead to this one.
  if (firstWait && !behind && (await ctx.gate.hasFreeSlot(task, ctx.now()))) {
    const again = await ctx.gate.admit(task, message, delivery.token, ctx.now());
    if ('lease' in again) {
      return { lease: again.lease, wasWaiting: true, indexed: true, handedOver: again.handedOver };
    }
    // Someone else's now, or older runs wait: a hand-over comes, the message is the fallback.
    if (!again.behind && again.running < (task.concurrency ?? 1)) delaySeconds = 0;
  }
  await deps.queue.enqueueOne({
    message: { ...message, waits: message.waits + 1, waitToken },
    delaySeconds,
  });
  return { outcome: 'waiting', reason };
}

/**
 * Waiting for a slot never touches the message's receive count: the run goes back
 * as a new message and this one is acknowledged, so waiting can never dead-letter it.
 * Released and reclaimed slots wake the oldest waiters at once, so this delay is only a
 * fallback (a task with no other runs whose slot's holder died): it doubles with each
 * wait up to a cap, which keeps a long line of waiters from flooding the executors. It
 * is whole seconds, jitter included, because SQS delays are: a fraction would be floored away.
 */
function waitDelaySeconds(ctx: ExecutorContext, message: RunMessage): number {
  const { waitMaxDelaySeconds, waitBaseDelaySeconds } = ctx.options;
  const delay = Math.min(waitMaxDelaySeconds, waitBaseDelaySeconds * 2 ** Math.min(message.waits, 5));
  return delay + Math.floor(ctx.random() * (Math.ceil(delay / 2) + 1));
}
