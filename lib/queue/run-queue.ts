import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { clampDelay, type QueuedRun, type RunQueue } from '../run/queue-port';

export { clampDelay, MAX_DELAY_SECONDS, type QueuedRun, type RunQueue } from '../run/queue-port';

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
