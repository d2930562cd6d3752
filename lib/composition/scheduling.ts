import { createDeadLetterHandler } from '../executor/dead-letter';
import { logger } from '../observability/logger';
import { createReconciler } from '../reconciler/reconciler';
import { planOptionsFor } from '../scheduler/plan';
import { createScheduler } from '../scheduler/scheduler';
import { runQueue, stores } from './core';
import { runMetrics } from './metrics';
import type { Part } from './root';

// The scheduler, the reconciler and the DLQ handler: apart from the executor's parts, so
// their bundles carry no runner.

export const scheduler: Part<ReturnType<typeof createScheduler>> = (rota) => {
  const metrics = rota.get(runMetrics);
  return createScheduler({
    tasks: rota.get(stores).tasks,
    queue: rota.get(runQueue),
    dueShards: Math.max(rota.config.ROTA_DUE_SHARDS, rota.config.ROTA_DUE_SHARDS_READ ?? 0),
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
    shards: rota.config.ROTA_DUE_SHARDS,
    logger,
    graceMs: rota.config.ROTA_CLAIM_TTL_SECONDS * 1000,
  });

export const deadLetterHandler: Part<ReturnType<typeof createDeadLetterHandler>> = (rota) => {
  const { runs, tasks } = rota.get(stores);
  return createDeadLetterHandler({ runs, tasks, logger });
};
