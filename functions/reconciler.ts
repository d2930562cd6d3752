import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { requireFunctionConfig } from '../lib/function-config';
import { rotaHandler } from '../lib/observability/aws-calls';
import { logger } from '../lib/observability/logger';
import { metrics, recordReconciledRuns } from '../lib/observability/metrics';
import { createReconciler } from '../lib/reconciler/reconciler';
import { runtime } from '../lib/runtime';

requireFunctionConfig(['table', 'runsQueue']);

const rt = runtime();
if (!rt.queue) throw new Error('ROTA_RUNS_QUEUE_URL is required by the reconciler');
const reconciler = createReconciler({
  runs: rt.runs,
  queue: rt.queue,
  shards: rt.config.ROTA_DUE_SHARDS,
  logger,
  graceMs: rt.config.ROTA_CLAIM_TTL_SECONDS * 1000,
});

/** Fired by EventBridge every minute: send again the open runs that stopped moving. */
export const handler = rotaHandler(
  'reconciler',
  middy(async (_event: unknown, context: Context) => {
    try {
      const report = await reconciler.reconcile({
        remainingTimeMs: () => context.getRemainingTimeInMillis(),
      });
      if (report.requeued + report.resumed > 0) recordReconciledRuns(report.requeued + report.resumed);
      // A pass with nothing overdue is the normal case; it stays out of the INFO log.
      if (report.overdue > 0 || report.failed > 0) logger.info('reconciler pass', { ...report });
      else logger.debug('reconciler pass', { ...report });
      return report;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  }).use(injectLambdaContext(logger)),
);
