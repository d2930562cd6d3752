import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startFauxqs } from '../../local/emulators';
import { startWorkerPool } from '../../local/worker-pool';
import { sqsClient, waitFor } from '../support/emulators';

/**
 * The local event source's batching window (docs/decisions/0026): what the deployed
 * `executorBatchingWindow` does, so the bench's lag and cost figures model it.
 */
describe('worker pool batching window on fauxqs', () => {
  let fauxqs: Emulator;
  let sqs: ReturnType<typeof sqsClient>;
  let seq = 0;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
    sqs = sqsClient(fauxqs.endpoint);
  });
  afterAll(async () => {
    sqs.destroy();
    await fauxqs.stop();
  });

  const queue = async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `window-${seq++}` }));
    if (!QueueUrl) throw new Error('no queue');
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
  };
  const send = (url: string, bodies: string[]) =>
    sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
      }),
    );

  /** One poller, recording each invocation's bodies. */
  const pool = (q: { url: string; arn: string }, batchingWindowMs: number) => {
    const batches: string[][] = [];
    const started = startWorkerPool({
      sqs,
      queueUrl: q.url,
      queueArn: q.arn,
      workers: 1,
      batchSize: 10,
      batchingWindowMs,
      visibilityTimeoutSeconds: 30,
      functionName: 'window-test',
      handler: async (event: SQSEvent) => {
        batches.push(event.Records.map((r) => r.body));
        return { batchItemFailures: [] };
      },
    });
    return { batches, stop: (graceMs?: number) => started.stop(graceMs) };
  };

  it('with a window, runs that arrive within it share one invocation', async () => {
    const q = await queue();
    const p = pool(q, 2_000);
    try {
      await send(q.url, ['a']);
      await new Promise((r) => setTimeout(r, 300));
      await send(q.url, ['b', 'c']);
      await waitFor(() => (p.batches.flat().length === 3 ? true : undefined), { timeoutMs: 10_000 });
      expect(p.batches).toEqual([['a', 'b', 'c']]);
    } finally {
      await p.stop();
    }
  });

  it('without a window, a lone run is invoked before later ones arrive', async () => {
    const q = await queue();
    const p = pool(q, 0);
    try {
      await send(q.url, ['a']);
      await waitFor(() => (p.batches.length === 1 ? true : undefined));
      await send(q.url, ['b', 'c']);
      await waitFor(() => (p.batches.flat().length === 3 ? true : undefined));
      expect(p.batches[0]).toEqual(['a']);
      expect(p.batches.flat().sort()).toEqual(['a', 'b', 'c']);
    } finally {
      await p.stop();
    }
  });

  it('a full batch is invoked without waiting out the window', async () => {
    const q = await queue();
    // A window longer than the wait below: only a full batch can be invoked in time.
    const p = pool(q, 60_000);
    try {
      const bodies = Array.from({ length: 10 }, (_, i) => `m${i}`);
      await send(q.url, bodies);
      await waitFor(() => (p.batches.length === 1 ? true : undefined), { timeoutMs: 10_000 });
      expect(p.batches[0]?.sort()).toEqual([...bodies].sort());
    } finally {
      await p.stop(0);
    }
  });
});
