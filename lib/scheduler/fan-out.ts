import type { Logger } from '@aws-lambda-powertools/logger';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import type { ShardRange, TickOptions, TickReport } from './scheduler';

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

/**
 * Tasks one planning worker advances in a tick: the slowest measured rate (99 tasks/s on
 * the emulators, bench/scaling.ts) over the 20 s a 30 s worker plans before its 10 s
 * margin (docs/decisions/0014).
 */
export const TASKS_PER_WORKER = 2_000;

/**
 * How many workers a tick needs for `activeTasks` tasks: a task is advanced once per
 * lookahead at most often (once per interval if that is longer), so a tick advances about
 * `activeTasks × tick / lookahead` of them. Never more workers than shards to split.
 * 10k tasks at a one-minute tick and 15-minute lookahead: 667 advances, one worker;
 * 1M: 66,667 advances, 34 workers wanted (capped at the shards).
 */
export function planningWorkersFor(input: {
  activeTasks: number;
  shards: number;
  tickSeconds: number;
  lookaheadSeconds: number;
}): number {
  const perTick =
    (input.activeTasks * input.tickSeconds) / Math.max(input.tickSeconds, input.lookaheadSeconds);
  return Math.min(input.shards, Math.max(1, Math.ceil(perTick / TASKS_PER_WORKER)));
}

/** What a tick of the coordinator did: planned every shard itself, or sent jobs. */
export type CoordinatorReport = ({ mode: 'inline' } & TickReport) | { mode: 'fan-out'; jobs: number };

export interface TickCoordinatorDeps {
  /** Plans shards in this process (Scheduler.tick). */
  planner: { tick(options?: TickOptions): Promise<TickReport> };
  /** The planning queue. @default none: every tick plans inline (local mode) */
  queue?: PlanQueue | undefined;
  /** Shards the readers cover (ROTA_DUE_SHARDS, or ROTA_DUE_SHARDS_READ when higher). */
  shards: number;
  /** Workers this tick wants: fixed by the operator, or derived from the task count. */
  workers: () => Promise<number>;
  logger: Pick<Logger, 'warn'>;
  now?: () => number;
}

/**
 * The EventBridge tick. One worker's worth of work is planned here, inline: a small
 * deployment pays no queue hop and no second invocation. Above that, one job per range
 * goes to the planning queue. The task count behind `workers` is a hint that may be hours
 * old; a tick that planned inline and ran out of time makes the next one fan out over
 * every shard, whatever the count says.
 */
export function createTickCoordinator(deps: TickCoordinatorDeps) {
  let behind = false;
  return {
    async tick(options: Pick<TickOptions, 'remainingTimeMs'> = {}): Promise<CoordinatorReport> {
      const workers = deps.queue ? (behind ? deps.shards : await deps.workers()) : 1;
      if (!deps.queue || workers <= 1) {
        const report = await deps.planner.tick(options);
        behind = deps.queue !== undefined && report.deferred > 0;
        return { mode: 'inline', ...report };
      }
      behind = false;
      const coordinator = createCoordinator({
        queue: deps.queue,
        shards: deps.shards,
        workers,
        now: deps.now,
      });
      return { mode: 'fan-out', ...(await coordinator.tick()) };
    },
  };
}

/** A planning job the worker cannot read: it fails, and after a few receives it is dead-lettered. */
export class PlanJobError extends Error {}

export type PlanJobOutcome = ({ outcome: 'planned' } & TickReport) | { outcome: 'stale' };

/**
 * A planning worker: plans the range of one job. A stale job is dropped (the next tick's
 * job covers the same shards); a range with a shard it could not read or a task it could
 * not schedule fails, so SQS delivers the job again and the retry plans what is left
 * (what was advanced is no longer due).
 */
export function createPlanningWorker(deps: {
  planner: { tick(options?: TickOptions): Promise<TickReport> };
  shards: number;
  intervalMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  return {
    async plan(body: string, options: Pick<TickOptions, 'remainingTimeMs'> = {}): Promise<PlanJobOutcome> {
      const job = parseJob(body, deps.shards);
      if (isStale(job, now(), deps.intervalMs)) {
        deps.logger.info('stale planning job dropped', { ...job });
        return { outcome: 'stale' };
      }
      const report = await deps.planner.tick({ ...options, shards: { from: job.from, to: job.to } });
      if (report.failed > 0) {
        throw new Error(
          `planning shards ${job.from}–${job.to}: ${report.failed} failure(s), left to a retry`,
        );
      }
      return { outcome: 'planned', ...report };
    },
  };
}

function parseJob(body: string, shards: number): PlanJob {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new PlanJobError('planning job: body must be JSON {from, to, tickAt}');
  }
  const parsed = planJobSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlanJobError(
      `planning job: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const job = parsed.data;
  if (job.from >= job.to || job.to > shards) {
    throw new PlanJobError(`planning job: shards ${job.from}–${job.to} must be a range within 0–${shards}`);
  }
  return job;
}
