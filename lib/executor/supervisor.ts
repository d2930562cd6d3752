import { flattenMessage } from '../errors';
import type { ExecutorContext } from './context';
import { LogFlusher } from './log-flush';
import type { Claimed, FinalStatus } from './model';
import type { RunLog } from './run-log';

class CanceledError extends Error {
  constructor() {
    super('run canceled');
  }
}

class TimeoutError extends Error {}

/** The abort switch of one run in flight; cancel is sticky so a late success still ends canceled. */
export class Flight {
  readonly controller = new AbortController();
  canceled = false;

  cancel(): void {
    this.canceled = true;
    this.controller.abort(new CanceledError());
  }
}

/** How the runner ended, before the final write. */
export interface Ended {
  status: FinalStatus;
  error?: string;
}

/**
 * The timers of a claimed run, owned together so they start and stop together: the
 * timeout aborts the run; the heartbeat keeps its claim (and slot) alive and aborts the
 * run when either was lost; the cancel poll turns a stored cancel request into a cancel;
 * the log flusher makes the lines written so far readable while the run goes on.
 */
export class RunSupervisor {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly flusher: LogFlusher;

  constructor(
    private readonly ctx: ExecutorContext,
    private readonly claimed: Claimed,
    private readonly flight: Flight,
    log: RunLog,
  ) {
    const { deps, options } = ctx;
    const { task, message, token } = claimed;
    this.flusher = new LogFlusher(
      log,
      (entries) => deps.runs.flushLog(task.id, message.runID, token, entries),
      {
        delayMs: options.logFlushMs,
        onError: (error) => deps.logger.warn('log flush failed', { error, runID: message.runID }),
      },
    );
  }

  start(): void {
    const { timeoutMs } = this.claimed;
    const { controller } = this.flight;
    this.timers.push(
      setTimeout(() => controller.abort(new TimeoutError(`run timed out after ${timeoutMs} ms`)), timeoutMs),
      setInterval(() => this.heartbeat(), this.ctx.options.heartbeatMs),
      setInterval(() => this.pollCancel(), this.ctx.options.cancelPollMs),
    );
    for (const timer of this.timers) timer.unref?.();
    this.flusher.start();
  }

  /** Stops every timer; resolves once a log flush in flight has answered, so the final write follows it. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await this.flusher.stop();
  }

  private heartbeat(): void {
    const { deps, options, now } = this.ctx;
    const { task, message, token, lease } = this.claimed;
    const { controller } = this.flight;
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
  }

  private pollCancel(): void {
    const { deps } = this.ctx;
    const { task, message } = this.claimed;
    void deps.runs
      .get(task.id, message.runID)
      .then((current) => {
        if (current?.cancelRequested) this.flight.cancel();
      })
      .catch((error) => deps.logger.warn('cancel poll failed', { error, runID: message.runID }));
  }
}

/** The runner under its supervisor's timeout, heartbeat and cancel poll. */
export async function supervise(
  ctx: ExecutorContext,
  claimed: Claimed,
  flight: Flight,
  log: RunLog,
): Promise<Ended> {
  const supervisor = new RunSupervisor(ctx, claimed, flight, log);
  supervisor.start();
  try {
    await raceRunner(ctx, claimed, flight, log);
    if (flight.canceled) throw new CanceledError();
    log.add('run succeeded');
    return { status: 'success' };
  } catch (caught) {
    const canceled = flight.canceled || caught instanceof CanceledError;
    const error = canceled ? 'run canceled' : flattenMessage(caught);
    log.add(canceled ? 'run canceled' : `run failed: ${error}`);
    return { status: canceled ? 'canceled' : 'failed', error };
  } finally {
    await supervisor.stop();
  }
}

/** Runs the task's runner, raced against the abort so a runner that ignores its signal still ends on time. */
async function raceRunner(
  ctx: ExecutorContext,
  claimed: Claimed,
  flight: Flight,
  log: RunLog,
): Promise<void> {
  const { task, message } = claimed;
  const { signal } = flight.controller;
  const system = ctx.deps.runners.get(task.type);
  if (!system) throw new Error(`no runner is registered for task type "${task.type}"`);
  await Promise.race([
    system.runner({
      task,
      run: {
        taskID: task.id,
        runID: message.runID,
        scheduledFor: message.scheduledFor,
        attempt: message.attempt,
      },
      signal,
      log: (line) => log.add(line),
    }),
    new Promise<never>((_, reject) => {
      const abort = () => reject(signal.reason);
      if (signal.aborted) abort();
      signal.addEventListener('abort', abort, { once: true });
    }),
  ]);
}
