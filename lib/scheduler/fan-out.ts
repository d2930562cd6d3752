import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import type { ShardRange } from './scheduler';

/**
 * The scheduler's fan-out: the EventBridge tick (the coordinator) sends one message per
 * range of due shards to a planning queue, and planning workers each plan their range
 * (Scheduler.tick with `shards`). SQS rather than async self-invokes: a range that
 * fails is redelivered and ends in a DLQ with an alarm, workers scale with the queue,
 * and the coordinator needs only sqs:SendMessage (docs/decisions/0014).
 */

/** One planning job: a range of due shards, and when the tick that sent it fired. */
export const planJobSchema = z.object({
  from: z.number().int().min(0),
  to: z.number().int().min(1),
  tickAt: z.number().int(),
});
export type PlanJob = z.infer<typeof planJobSchema>;

export interface PlanQueue {
  send(jobs: readonly PlanJob[]): Promise<void>;
}

/** `shards` split into `workers` contiguous ranges as even as they can be, none empty. */
export function shardRanges(shards: number, workers: number): ShardRange[] {
  const count = Math.max(1, Math.min(shards, workers));
  return Array.from({ length: count }, (_, i) => ({
    from: Math.floor((i * shards) / count),
    to: Math.floor(((i + 1) * shards) / count),
  }));
}

/** What one advance writes to the due index: the old key's delete and the new key's put. */
const DUE_INDEX_WRU_PER_ADVANCE = 2;
/** DynamoDB's write ceiling per partition, and the share of it a shard may use. */
const PARTITION_WRU_PER_SECOND = 1000;
const PARTITION_SHARE = 0.5;

/**
 * The due shards `tasks` every-`intervalSeconds` tasks need so that no due-index
 * partition takes more than half of DynamoDB's 1,000 WRU/s: each task is advanced once
 * per max(interval, lookahead), and each advance moves its due key (2 WRU).
 * 1M every-1m tasks at a 15-minute lookahead: 1e6 / 900 s × 2 = 2,222 WRU/s → 5 shards
 * (444 WRU/s each); at a 1-minute lookahead: 33,333 WRU/s → 67 shards.
 */
export function dueShardsFor(tasks: number, intervalSeconds: number, lookaheadSeconds: number): number {
  const advancesPerSecond = tasks / Math.max(intervalSeconds, lookaheadSeconds);
  const wru = advancesPerSecond * DUE_INDEX_WRU_PER_ADVANCE;
  return Math.max(1, Math.ceil(wru / (PARTITION_WRU_PER_SECOND * PARTITION_SHARE)));
}

/** The coordinator: one planning job per range, sent in batches of ten. */
export function createCoordinator(deps: {
  queue: PlanQueue;
  shards: number;
  workers: number;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  return {
    async tick(): Promise<{ jobs: number }> {
      const tickAt = now();
      const jobs = shardRanges(deps.shards, deps.workers).map((range) => ({ ...range, tickAt }));
      await deps.queue.send(jobs);
      return { jobs: jobs.length };
    },
  };
}

/**
 * A job older than one tick is stale: the next tick's job plans the same shards from a
 * fresh read, so a worker that finds one drops it rather than racing that one.
 */
export function isStale(job: PlanJob, at: number, intervalMs: number): boolean {
  return at - job.tickAt > intervalMs;
}

export function createPlanQueue({ client, queueUrl }: { client: SQSClient; queueUrl: string }): PlanQueue {
  return {
    async send(jobs) {
      for (let i = 0; i < jobs.length; i += 10) {
        const batch = jobs.slice(i, i + 10);
        const out = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((job, n) => ({ Id: String(n), MessageBody: JSON.stringify(job) })),
          }),
        );
        if (out.Failed?.length) {
          throw new Error(
            `SQS refused ${out.Failed.length} planning job(s): ${out.Failed[0]?.Message ?? ''}`,
          );
        }
      }
    },
  };
}
