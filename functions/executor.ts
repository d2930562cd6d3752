import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createExecutorFromRuntime } from '../lib/executor/runtime';
import { handleRunRecord } from '../lib/executor/sqs';
import { requireFunctionConfig } from '../lib/function-config';
import { rotaHandler } from '../lib/observability/aws-calls';
import { logger } from '../lib/observability/logger';
import { metrics } from '../lib/observability/metrics';
import { runtime } from '../lib/runtime';

requireFunctionConfig(['table', 'runsQueue', 'secretsKey']);

const executor = createExecutorFromRuntime(runtime());

/** SQS event source (ReportBatchItemFailures): each record is one run. */
export const handler = rotaHandler(
  'executor',
  middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    try {
      return await processPartialResponse(
        event,
        (record: SQSRecord) => handleRunRecord(executor, record, context, logger),
        new BatchProcessor(EventType.SQS),
        {
          context,
        },
      );
    } finally {
      // A batch of waiting or duplicate runs records no lag: nothing to publish then.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  }).use(injectLambdaContext(logger)),
);
