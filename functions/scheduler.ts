import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { requireFunctionConfig } from '../lib/function-config';
import { rotaHandler } from '../lib/observability/aws-calls';
import { logger } from '../lib/observability/logger';
import { metrics, recordSchedulerTaskFailure } from '../lib/observability/metrics';
import { runtime } from '../lib/runtime';
import { planOptionsFor } from '../lib/scheduler/plan';
import { createScheduler } from '../lib/scheduler/scheduler';

requireFunctionConfig(['table', 'runsQueue']);

const rt = runtime();
if (!rt.queue) throw new Error('ROTA_RUNS_QUEUE_URL is required by the scheduler');
const scheduler = createScheduler({
  tasks: rt.tasks,
  queue: rt.queue,
  dueShards: rt.config.ROTA_DUE_SHARDS,
  logger,
  plan: planOptionsFor(rt.config.ROTA_SCHEDULER_INTERVAL_SECONDS),
  onTaskFailed: () => recordSchedulerTaskFailure(),
});

/** Fired by EventBridge every interval: enqueue every run due before the next tick. */
export const handler = rotaHandler(
  'scheduler',
  middy(async (_event: unknown, context: Context) => {
    try {
      const report = await scheduler.tick({ remainingTimeMs: () => context.getRemainingTimeInMillis() });
      // Every tick, due or not: a detail, not news (local mode ticks every second).
      logger.debug('scheduler tick', { ...report });
      return report;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  }).use(injectLambdaContext(logger)),
);
