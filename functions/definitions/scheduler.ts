import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { defineFunction } from '../../lib/composition/function';
import { runMetrics } from '../../lib/composition/metrics';
import { tickCoordinator } from '../../lib/composition/scheduling';
import { logger } from '../../lib/observability/logger';

/**
 * Fired by EventBridge every interval: the fan-out's coordinator. It plans every shard
 * itself when one worker is enough, else sends one planning job per shard range
 * (docs/decisions/0014, "Deployed fan-out").
 */
export const scheduler = defineFunction({
  name: 'scheduler',
  needs: ['table', 'runsQueue'],
  build: (rota) => {
    const coordinator = rota.get(tickCoordinator);
    const metrics = rota.get(runMetrics);
    return middy(async (_event: unknown, context: Context) => {
      try {
        const report = await coordinator.tick({ remainingTimeMs: () => context.getRemainingTimeInMillis() });
        // Every tick, due or not: a detail, not news (local mode ticks every second).
        logger.debug('scheduler tick', { ...report });
        return report;
      } finally {
        metrics.publish();
      }
    }).use(injectLambdaContext(logger));
  },
});
