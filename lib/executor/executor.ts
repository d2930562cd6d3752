import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { flattenMessage } from '../errors';
import { clampDelay, type RunQueue } from '../queue/run-queue';
import type { Run, RunMessage } from '../run/model';
import { policyRetryRunID } from '../run/run-ids';
import { parseDuration } from '../schedule/duration';
import { compileSchedule } from '../schedule/schedule';
import type { Lease, LeaseStore } from '../store/lease-store';
import type { RunState, RunStore } from '../store/run-store';
import type { TaskStore } from '../store/task-store';
import type { RunnerRegistry } from '../systems/system';
import type { Task } from '../task/model';
import { createConcurrencyGate } from './concurrency';
import { RunLog } from './run-log';

export interface ExecutorOptions {
  /**
   * How long a claim (and a lease) lives without a heartbeat before another executor may
   * take over. Also the grace after which an open run counts as stalled.
   */
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
  waitBaseDelaySeconds: 10,
  waitMaxDelaySeconds: 120,
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
  /**
   * SQS's ApproximateReceiveCount. More than 1 means this message was handed out before
   * and not deleted: it may be the message of an executor that died holding the run.
   * @default 1
   */
  receiveCount?: number;
}

export interface ExecutorDeps {
  tasks: TaskStore;
  runs: RunStore;
  leases: LeaseStore;
  queue: RunQueue;
  runners: RunnerRegistry;
  logger: Logger;
  now?: () => number;
  /** Jitter for waiting runs' delays; `Math.random` unless a test fixes it. */
  random?: () => number;
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

type FinalStatus = 'success' | 'failed' | 'canceled';

/** What a limited run's admission gave: its lease, and whether it was stored (waiting, indexed) before. */
interface Admitted {
  lease: Lease | undefined;
  wasWaiting: boolean;
  indexed: boolean;
}

/** A run this executor claimed: what it needs until the run's final write. */
interface Claimed {
  task: Task;
  message: RunMessage;
  token: string;
  lease: Lease | undefined;
  runAt: number;
  startedAt: number;
  timeoutMs: number;
  resumed: boolean;
  claims: number;
}

export function createExecutor(deps: ExecutorDeps) {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const options = { ...DEFAULT_EXECUTOR_OPTIONS, ...deps.options };
  const gate = createConcurrencyGate({ ...deps, claimTtlMs: options.claimTtlMs });

  /** When a run is due. Scheduled instants shift by the task's offset; manual runs run at scheduledFor. */
  const runAtOf = (task: Task, message: RunMessage) =>
    Date.parse(message.scheduledFor) + (message.kind === 'scheduled' ? compileSchedule(task).offsetMs : 0);

  const seedOf = (task: Task, message: RunMessage) => ({
    kind: message.kind,
    scheduledFor: message.scheduledFor,
    runAt: new Date(runAtOf(task, message)).toISOString(),
    attempt: message.attempt,
  });

  /**
   * Waiting for a slot never touches the message's receive count: the run goes back
   * as a new message and this one is acknowledged, so waiting can never dead-letter it.
   * Released and reclaimed slots wake the oldest waiters at once, so this delay is only a
   * fallback (a task with no other runs whose slot's holder died): it doubles with each
   * wait up to a cap, which keeps a long line of waiters from flooding the executors. It
   * is whole seconds, jitter included, because SQS delays are: a fraction would be floored away.
   */
  const waitDelaySeconds = (message: RunMessage) => {
    const delay = Math.min(
      options.waitMaxDelaySeconds,
      options.waitBaseDelaySeconds * 2 ** Math.min(message.waits, 5),
    );
    return delay + Math.floor(random() * (Math.ceil(delay / 2) + 1));
  };

  const timeoutOf = (task: Task, startOptions: StartOptions) =>
    Math.max(
      1,
      Math.min(
        task.timeout ? parseDuration(task.timeout) * 1000 : options.defaultTimeoutMs,
        (startOptions.remainingTimeMs?.() ?? Number.POSITIVE_INFINITY) - options.safetyMarginMs,
      ),
    );

  function start(message: RunMessage, startOptions: StartOptions = {}): RunPromise {
    const flight = new Flight();
    const result = run(message, flight, startOptions);
    return { runID: message.runID, done: () => result, cancel: () => flight.cancel() };
  }

  async function run(message: RunMessage, flight: Flight, startOptions: StartOptions): Promise<RunResult> {
    const task = await deps.tasks.get(message.taskID);
    const dropReason = whyDropped(task, message);
    if (!task || dropReason) return drop(message, dropReason ?? 'task no longer exists');

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
    const token = randomUUID();
    const timeoutMs = timeoutOf(task, startOptions);

    let admitted: Admitted = { lease: undefined, wasWaiting: false, indexed: false };
    if (task.concurrency !== undefined) {
      const gated = await admitLimited(task, message, token, at, startOptions);
      if ('outcome' in gated) return gated;
      admitted = gated;
    }
    // Runs stored before they start (manual, retries, waiters) carry the open index; the
    // claim moves their stall time to when a live executor must have finished them.
    const indexed = message.kind !== 'scheduled' || admitted.indexed;
    const { lease } = admitted;
    const claim = await deps.runs.claim({
      taskID: task.id,
      runID: message.runID,
      token,
      now: at,
      claimTtlMs: options.claimTtlMs,
      seed: seedOf(task, message),
      stallAt: indexed ? at + timeoutMs + options.claimTtlMs : undefined,
    });
    if (!claim.claimed) {
      if (lease) await gate.release(task, lease, now());
      return (
        (await settleUnclaimable(task, message, claim.state, at, startOptions)) ??
        (await retryLater(message, claim.state))
      );
    }
    if (admitted.wasWaiting) await deps.leases.removeWaiter(task.id, message.runID);

    const lagMs = claim.resumed ? undefined : at - runAt;
    if (lagMs !== undefined) deps.onLag?.(lagMs, task);
    const result = await runClaimed(
      {
        task,
        message,
        token,
        lease,
        runAt,
        startedAt: at,
        timeoutMs,
        resumed: claim.resumed,
        claims: claim.run.claims ?? 1,
      },
      flight,
    );
    return { ...result, lagMs };
  }

  /**
   * A run of a task with a concurrency limit: a lease, or the outcome that ends this
   * delivery (a duplicate, a deferral, or a wait). A duplicate delivery of a finished or
   * live run must not take a slot from a waiting one, so the run is read first.
   */
  async function admitLimited(
    task: Task,
    message: RunMessage,
    token: string,
    at: number,
    startOptions: StartOptions,
  ): Promise<Admitted | RunResult> {
    const existing = await deps.runs.inspect(task.id, message.runID);
    const settled = await settleUnclaimable(task, message, existing, at, startOptions);
    if (settled) return settled;
    const admission = await gate.admit(task, message, token, at);
    if ('waiting' in admission) return waitForSlot(task, message, existing, admission, at);
    return {
      lease: admission.lease,
      wasWaiting: admission.requeued || existing?.waiting === true,
      indexed: admission.requeued || existing?.openAt !== undefined,
    };
  }

  /** Why a message must not run, if it must not. */
  function whyDropped(task: Task | undefined, message: RunMessage): string | undefined {
    if (!task) return 'task no longer exists';
    if (message.kind === 'scheduled' && task.status !== 'active') return 'task is inactive';
    if (
      message.kind === 'scheduled' &&
      message.revision !== undefined &&
      message.revision !== task.revision
    ) {
      return 'the task schedule changed after this run was queued';
    }
    return undefined;
  }

  /** A run that will never run ends `canceled` if it was stored, so nothing keeps it open. */
  async function drop(message: RunMessage, reason: string): Promise<RunResult> {
    const ended = await deps.runs.abandon(message.taskID, message.runID, now(), `run dropped: ${reason}`);
    return { outcome: 'dropped', reason, run: ended };
  }

  /**
   * A message for a run this executor cannot claim. A finished run completes what its
   * executor may have left undone (bookkeeping, the policy retry). A run another
   * executor holds: a fresh copy is a duplicate (the holder's own message stays in
   * flight until it finishes), but a redelivered one may be that very message, back
   * because its executor died; it comes back when the claim would expire, so a dead
   * holder's run is never left without a message. Undefined when the run is claimable.
   */
  async function settleUnclaimable(
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
      await deps.queue.enqueueOne({
        message,
        delaySeconds: clampDelay(Math.ceil((heldUntil - at) / 1000) + 1),
      });
      return { outcome: 'deferred', run: current, reason: 'another executor holds this run' };
    }
    await completeFinished(task, current);
    return { outcome: 'duplicate', run: current, reason: `run is ${current.status}` };
  }

  /** The claim lost a race that left the run claimable: try again shortly rather than drop it. */
  async function retryLater(message: RunMessage, state: RunState | undefined): Promise<RunResult> {
    await deps.queue.enqueueOne({ message, delaySeconds: 1 });
    return { outcome: 'deferred', run: state?.run, reason: 'the claim lost a race; trying again' };
  }

  /**
   * Stores the run as waiting (visible as `scheduled`, with why in its log) and sends it
   * back with a delay. Only one message carries a waiting run: a copy is acknowledged.
   */
  async function waitForSlot(
    task: Task,
    message: RunMessage,
    existing: RunState | undefined,
    { waiting: reason, behind }: { waiting: string; behind: boolean },
    at: number,
  ): Promise<RunResult> {
    const waitToken = randomUUID();
    let delaySeconds = waitDelaySeconds(message);
    const firstWait = existing?.waiting !== true;
    const stored = await deps.runs.wait({
      taskID: task.id,
      runID: message.runID,
      seed: seedOf(task, message),
      revision: message.kind === 'scheduled' ? message.revision : undefined,
      now: at,
      openAt: at + delaySeconds * 1000 + options.claimTtlMs,
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
    // so look once more. Behind older waiters, their hand-overs lead to this one.
    if (firstWait && !behind && (await gate.hasFreeSlot(task, now()))) delaySeconds = 0;
    await deps.queue.enqueueOne({
      message: { ...message, waits: message.waits + 1, waitToken },
      delaySeconds,
    });
    return { outcome: 'waiting', reason };
  }

  /** Runs a claimed run to its final write, then completes its bookkeeping. */
  async function runClaimed(claimed: Claimed, flight: Flight): Promise<RunResult> {
    const { task, message } = claimed;
    const log = new RunLog(options.logLimitBytes, now);
    log.add(
      claimed.resumed
        ? `run resumed (claim ${claimed.claims}): the previous executor stopped without finishing`
        : `run started (attempt ${message.attempt}, scheduled for ${message.scheduledFor})`,
    );
    const outcome = await runWithTimers(claimed, flight, log);
    const finished = await writeFinal(claimed, outcome, log);
    if (claimed.lease) await gate.release(task, claimed.lease, now());
    if (!finished) {
      deps.logger.warn('run finished after losing its claim; result discarded', { runID: message.runID });
      return { outcome: 'duplicate', reason: 'lost the claim' };
    }
    await completeFinished(task, finished);
    return { outcome: finished.status as FinalStatus, run: finished };
  }

  /** The runner under its timeout, heartbeat and cancel poll. */
  async function runWithTimers(
    claimed: Claimed,
    flight: Flight,
    log: RunLog,
  ): Promise<{ status: FinalStatus; error?: string }> {
    const { task, message, token, lease } = claimed;
    const { controller } = flight;
    const timers: NodeJS.Timeout[] = [
      setTimeout(
        () => controller.abort(new TimeoutError(`run timed out after ${claimed.timeoutMs} ms`)),
        claimed.timeoutMs,
      ),
      setInterval(() => {
        const expires = now() + options.claimTtlMs;
        void Promise.all([
          deps.runs.heartbeat(task.id, message.runID, token, expires),
          lease ? deps.leases.extend(lease, expires) : true,
        ])
          .then(([ownRun, ownLease]) => {
            if (!ownRun) controller.abort(new Error('lost the claim on this run'));
            // Another run took the slot: going on would break the task's concurrency limit.
            else if (!ownLease) controller.abort(new Error('lost its concurrency slot'));
          })
          .catch((error) => deps.logger.warn('heartbeat failed', { error, runID: message.runID }));
      }, options.heartbeatMs),
      setInterval(() => {
        void deps.runs
          .get(task.id, message.runID)
          .then((current) => {
            if (current?.cancelRequested) flight.cancel();
          })
          .catch((error) => deps.logger.warn('cancel poll failed', { error, runID: message.runID }));
      }, options.cancelPollMs),
    ];
    for (const timer of timers) timer.unref?.();

    const system = deps.runners.get(task.type);
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
      return { status: 'success' };
    } catch (caught) {
      const canceled = flight.canceled || caught instanceof CanceledError;
      const error = canceled ? 'run canceled' : flattenMessage(caught);
      log.add(canceled ? 'run canceled' : `run failed: ${error}`);
      return { status: canceled ? 'canceled' : 'failed', error };
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  }

  /** The final write, if the run is still ours. Cancel wins over a result that raced it. */
  async function writeFinal(
    claimed: Claimed,
    outcome: { status: FinalStatus; error?: string },
    log: RunLog,
  ): Promise<Run | undefined> {
    const { task, message, token } = claimed;
    const finish = (status: FinalStatus) =>
      deps.runs.finish(task.id, message.runID, token, {
        status,
        finishedAt: new Date(now()).toISOString(),
        log: log.entries,
        error: status === 'failed' ? outcome.error : undefined,
      });
    const finished = await finish(outcome.status);
    if (finished || outcome.status === 'canceled') return finished;
    // A cancel that arrived after the runner finished still ends the run canceled.
    const current = await deps.runs.get(task.id, message.runID);
    if (current?.status !== 'started' || !current.cancelRequested) return undefined;
    log.add('run canceled');
    return finish('canceled');
  }

  /**
   * What follows a final run: the task's latest* bookkeeping and the policy retry. Both
   * are idempotent, so a redelivered message for a finished run repeats them safely and
   * completes what an executor that died after `finish` left undone.
   */
  async function completeFinished(task: Task, run: Run): Promise<void> {
    const status = run.status as FinalStatus;
    // A run canceled before it started never completed: the task's bookkeeping ignores it.
    if (run.startedAt !== undefined && !completionRecorded(task, run)) {
      await deps.tasks.recordCompletion(task.id, {
        scheduledFor: run.scheduledFor,
        finishedAt: run.finishedAt ?? new Date(now()).toISOString(),
        status,
        error: status === 'failed' ? run.error : undefined,
      });
    }
    if (status === 'failed') await ensureRetry(task, run);
  }

  /** The task already shows this run's completion (or a later one's). */
  function completionRecorded(task: Task, run: Run): boolean {
    const atLeast = (field: string | undefined) => field !== undefined && field >= run.scheduledFor;
    if (!atLeast(task.latestCompleted)) return false;
    if (run.status === 'success') return atLeast(task.latestSuccess);
    if (run.status === 'failed') return atLeast(task.latestFailure);
    return true;
  }

  /**
   * The task's retry policy: a new run per attempt, each recorded, with exponential
   * backoff. Its ID is deterministic, so a second call finds it; one still `scheduled`
   * is sent again (its first message may never have left).
   */
  async function ensureRetry(task: Task, failed: Run): Promise<void> {
    if (!task.retry || failed.attempt > task.retry.attempts) return;
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
      dueAt + options.claimTtlMs,
    );
    if (!created && (await deps.runs.get(task.id, runID))?.status !== 'scheduled') return;
    await deps.queue.enqueueOne({
      message: {
        taskID: task.id,
        runID,
        scheduledFor: failed.scheduledFor,
        kind: 'retry',
        attempt,
        waits: 0,
      },
      delaySeconds: clampDelay(Math.ceil((dueAt - now()) / 1000)),
    });
  }

  return {
    start,
    /** The scheduler path: run one message to its end. */
    execute: (message: RunMessage, startOptions?: StartOptions) => start(message, startOptions).done(),
  };
}

export type Executor = ReturnType<typeof createExecutor>;
