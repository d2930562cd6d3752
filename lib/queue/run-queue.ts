import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RunMessage } from '../run/model';

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

export function createRunQueue({ client, queueUrl }: { client: SQSClient; queueUrl: string }): RunQueue {
  const sendBatch = async (batch: readonly QueuedRun[]) => {
    let pending = batch.map((run, i) => ({ id: String(i), run }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map(({ id, run }) => ({
            Id: id,
            MessageBody: JSON.stringify(run.message),
            DelaySeconds: clampDelay(run.delaySeconds),
          })),
        }),
      );
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      pending = pending.filter(({ id }) => failed.has(id));
      if (pending.length && attempt >= 3) {
        throw new Error(
          `SQS refused ${pending.length} run message(s): ${out.Failed?.[0]?.Message ?? 'unknown'}`,
        );
      }
    }
  };

  return {
    async enqueue(runs) {
      const batches: QueuedRun[][] = [];
      for (let i = 0; i < runs.length; i += 10) batches.push(runs.slice(i, i + 10));
      // A handful of batches in flight keeps a 1,000-run catch-up quick without a burst.
      for (let i = 0; i < batches.length; i += 8) await Promise.all(batches.slice(i, i + 8).map(sendBatch));
    },
    async enqueueOne({ message, delaySeconds }) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(message),
          DelaySeconds: clampDelay(delaySeconds),
        }),
      );
    },
  };
}
