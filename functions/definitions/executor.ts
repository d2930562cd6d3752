import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { executor as runExecutor } from '../../lib/composition/engine';
import { defineFunction } from '../../lib/composition/function';
import { runMetrics } from '../../lib/composition/metrics';
import { handleRunRecord } from '../../lib/executor/sqs';
import { logger } from '../../lib/observability/logger';

/** SQS event source (ReportBatchItemFailures): each record is one run. */
export const executor = defineFunction({
  name: 'executor',
  needs: ['table', 'runsQueue', 'secretsKey'],
  build: (rota) => {
    const runs = rota.get(runExecutor);
    const metrics = rota.get(runMetrics);
    return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      try {
        return await processPartialResponse(
          event,
          (record: SQSRecord) => handleRunRecord(runs, record, context, logger),
          new BatchProcessor(EventType.SQS),
          { context },
        );
      } finally {
        // A batch of waiting or duplicate runs records no lag: nothing to publish then.
        metrics.publish();
      }
    }).use(injectLambdaContext(logger));
  },
});
