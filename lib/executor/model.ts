import type { Logger } from '@aws-lambda-powertools/logger';
import type { RunQueue } from '../queue/run-queue';
import type { Run, RunMessage } from '../run/model';
import type { Lease, LeaseStore } from '../store/lease-store';
import type { RunStore } from '../store/run-store';
import type { TaskStore } from '../store/task-store';
import type { RunnerRegistry } from '../systems/system';
import type { Task } from '../task/model';

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
  /**
   * How long a line of a started run may wait before it is flushed to the store, and the
   * least time between two flushes. A run that ends sooner writes its log only once.
   */
  logFlushMs: number;
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
  logFlushMs: 2_000,
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

export type FinalStatus = 'success' | 'failed' | 'canceled';

/** What acquiring a slot gave: its lease, and whether it was stored (waiting, indexed) before. */
export interface Slotted {
  /** Its token is the claim's: a handed-over slot's was chosen by the run that released it. */
  lease: Lease | undefined;
  wasWaiting: boolean;
  indexed: boolean;
  /** The slot came from a release, not from this delivery: a copy of the run's message may hold it too. */
  handedOver: boolean;
}

/** A run this executor claimed: what it needs until the run's final write. */
export interface Claimed {
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

/** A run whose step ended this delivery, as opposed to one that goes on to the next step. */
export const isResult = <T extends object>(step: T | RunResult): step is RunResult => 'outcome' in step;
