import type { RotaConfig } from '../config';
import { createDeadLetterHandler } from '../executor/dead-letter';
import { declareResource } from '../observability/aws-calls';
import { logger } from '../observability/logger';
import { createReconciler } from '../reconciler/reconciler';
import {
  createPlanningWorker,
  createPlanQueue,
  createTickCoordinator,
  type PlanQueue,
  planningWorkersFor,
} from '../scheduler/fan-out';
import { planOptionsFor } from '../scheduler/plan';
import { createScheduler } from '../scheduler/scheduler';
import { createDueIndexCount } from '../store/due-index-count';
import { sqsClient } from './clients';
import { runQueue, stores, table } from './core';
import { runMetrics } from './metrics';
import type { Part } from './root';

// The scheduler, the reconciler and the DLQ handler: apart from the executor's parts, so
// their bundles carry no runner.

/**
 * The due and open shards readers cover: after the count is lowered, the shards above it
 * still hold tasks (until advanced) and open runs (until they end) written under the old one.
 */
export const shardsRead = (config: RotaConfig) =>
  Math.max(config.ROTA_DUE_SHARDS, config.ROTA_DUE_SHARDS_READ ?? 0);

export const scheduler: Part<ReturnType<typeof createScheduler>> = (rota) => {
  const metrics = rota.get(runMetrics);
  return createScheduler({
    tasks: rota.get(stores).tasks,
    queue: rota.get(runQueue),
    dueShards: shardsRead(rota.config),
    logger,
    plan: planOptionsFor(
      rota.config.ROTA_SCHEDULER_INTERVAL_SECONDS,
      rota.config.ROTA_SCHEDULER_LOOKAHEAD_SECONDS,
    ),
    onTaskFailed: () => metrics.schedulerTaskFailure(),
  });
};

export const reconciler: Part<ReturnType<typeof createReconciler>> = (rota) =>
  createReconciler({
    runs: rota.get(stores).runs,
    queue: rota.get(runQueue),
    // Open runs opened under a higher count stay in its shards until they close.
    shards: shardsRead(rota.config),
    logger,
    graceMs: rota.config.ROTA_CLAIM_TTL_SECONDS * 1000,
  });

export const deadLetterHandler: Part<ReturnType<typeof createDeadLetterHandler>> = (rota) => {
  const { runs, tasks } = rota.get(stores);
  return createDeadLetterHandler({ runs, tasks, logger });
};

/** The planning queue of the fan-out, when the configuration names one (not in local mode). */
export const planningQueue: Part<PlanQueue | undefined> = (rota) => {
  const queueUrl = rota.config.ROTA_PLANNING_QUEUE_URL;
  if (!queueUrl) return undefined;
  declareResource('planningQueue', queueUrl);
  return createPlanQueue({ client: rota.get(sqsClient), queueUrl });
};

/**
 * Planning workers for this tick: the operator's ROTA_PLANNING_WORKERS, else derived from
 * the due index's item count. A count that cannot be read fans out over every shard:
 * that costs a few invocations, planning inline too much could cost a late tick.
 */
export const planningWidth: Part<() => Promise<number>> = (rota) => {
  const { config } = rota;
  const shards = shardsRead(config);
  const fixed = config.ROTA_PLANNING_WORKERS;
  if (fixed !== undefined) return async () => Math.min(fixed, shards);
  const { client, tableName } = rota.get(table);
  const count = createDueIndexCount({ client, tableName });
  return async () => {
    const activeTasks = await count().catch((error: unknown) => {
      logger.warn('could not read the due index count; fanning out over every shard', { error });
      return undefined;
    });
    if (activeTasks === undefined) return shards;
    return planningWorkersFor({
      activeTasks,
      shards,
      tickSeconds: config.ROTA_SCHEDULER_INTERVAL_SECONDS,
      lookaheadSeconds: config.ROTA_SCHEDULER_LOOKAHEAD_SECONDS,
    });
  };
};

/** The EventBridge tick: plans inline when one worker is enough, else sends one job per range. */
export const tickCoordinator: Part<ReturnType<typeof createTickCoordinator>> = (rota) =>
  createTickCoordinator({
    planner: rota.get(scheduler),
    queue: rota.get(planningQueue),
    shards: shardsRead(rota.config),
    workers: rota.get(planningWidth),
    logger,
  });

/** The planning queue's consumer: plans the shard range of one job. */
export const planningWorker: Part<ReturnType<typeof createPlanningWorker>> = (rota) =>
  createPlanningWorker({
    planner: rota.get(scheduler),
    shards: shardsRead(rota.config),
    intervalMs: rota.config.ROTA_SCHEDULER_INTERVAL_SECONDS * 1000,
    logger,
  });
