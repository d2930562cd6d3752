import type { RunMessage } from './model';

/**
 * The runs queue as the run domain sees it: what it sends and how late it may arrive.
 * lib/queue/run-queue.ts implements it on SQS; the run core imports no queue module.
 */

/** SQS caps DelaySeconds at 15 minutes; later runs are re-delayed by the executor. */
export const MAX_DELAY_SECONDS = 900;

export interface QueuedRun {
  message: RunMessage;
  delaySeconds: number;
}

export interface RunQueue {
  /** Sends in batches of 10; throws if any entry could not be sent, after retrying it. */
  enqueue(runs: readonly QueuedRun[]): Promise<void>;
  enqueueOne(run: QueuedRun): Promise<void>;
}

/**
 * Rounds down: a message arrives up to a second early and the executor waits out the
 * rest, so runs start on their instant instead of up to a second late.
 */
export const clampDelay = (seconds: number) => Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.floor(seconds)));
