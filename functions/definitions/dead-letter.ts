import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { defineFunction } from '../../lib/composition/function';
import { deadLetterHandler } from '../../lib/composition/scheduling';
import { logger } from '../../lib/observability/logger';

/** Consumes the runs DLQ and marks each dead-lettered run failed. */
export const deadLetter = defineFunction({
  name: 'dead-letter',
  needs: ['table'],
  build: (rota) => {
    const handleRecord = rota.get(deadLetterHandler);
    return middy(
      async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
        processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), { context }),
    ).use(injectLambdaContext(logger));
  },
});
