import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { defineFunction } from '../../lib/composition/function';
import { runMetrics } from '../../lib/composition/metrics';
import { reconciler as openRunReconciler } from '../../lib/composition/scheduling';
import { logger } from '../../lib/observability/logger';

/** Fired by EventBridge every minute: send again the open runs that stopped moving. */
export const reconciler = defineFunction({
  name: 'reconciler',
  needs: ['table', 'runsQueue'],
  build: (rota) => {
    const pass = rota.get(openRunReconciler);
    const metrics = rota.get(runMetrics);
    return middy(async (_event: unknown, context: Context) => {
      try {
        const report = await pass.reconcile({ remainingTimeMs: () => context.getRemainingTimeInMillis() });
        if (report.requeued + report.resumed > 0) metrics.reconciledRuns(report.requeued + report.resumed);
        // A pass with nothing overdue is the normal case; it stays out of the INFO log.
        if (report.overdue > 0 || report.failed > 0) logger.info('reconciler pass', { ...report });
        else logger.debug('reconciler pass', { ...report });
        return report;
      } finally {
        metrics.publish();
      }
    }).use(injectLambdaContext(logger));
  },
});
