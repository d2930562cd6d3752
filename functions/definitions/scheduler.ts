import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { defineFunction } from '../../lib/composition/function';
import { runMetrics } from '../../lib/composition/metrics';
import { scheduler as duePlanner } from '../../lib/composition/scheduling';
import { logger } from '../../lib/observability/logger';

/** Fired by EventBridge every interval: enqueue every run due before the next tick. */
export const scheduler = defineFunction({
  name: 'scheduler',
  needs: ['table', 'runsQueue'],
  build: (rota) => {
    const planner = rota.get(duePlanner);
    const metrics = rota.get(runMetrics);
    return middy(async (_event: unknown, context: Context) => {
      try {
        const report = await planner.tick({ remainingTimeMs: () => context.getRemainingTimeInMillis() });
        // Every tick, due or not: a detail, not news (local mode ticks every second).
        logger.debug('scheduler tick', { ...report });
        return report;
      } finally {
        metrics.publish();
      }
    }).use(injectLambdaContext(logger));
  },
});
