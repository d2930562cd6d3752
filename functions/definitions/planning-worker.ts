import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { defineFunction } from '../../lib/composition/function';
import { runMetrics } from '../../lib/composition/metrics';
import { planningWorker as worker } from '../../lib/composition/scheduling';
import { logger } from '../../lib/observability/logger';

/**
 * Consumes the planning queue (ReportBatchItemFailures): each record is one shard range
 * of a tick. A failed range returns to the queue, and a job that keeps failing ends in
 * the planning DLQ, whose depth raises an alarm.
 */
export const planningWorker = defineFunction({
  name: 'planning-worker',
  needs: ['table', 'runsQueue'],
  build: (rota) => {
    const planner = rota.get(worker);
    const metrics = rota.get(runMetrics);
    return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      try {
        return await processPartialResponse(
          event,
          async (record: SQSRecord) => {
            const outcome = await planner.plan(record.body, {
              remainingTimeMs: () => context.getRemainingTimeInMillis(),
            });
            logger.debug('planning job', { messageId: record.messageId, ...outcome });
          },
          new BatchProcessor(EventType.SQS),
          { context },
        );
      } finally {
        metrics.publish();
      }
    }).use(injectLambdaContext(logger));
  },
});
