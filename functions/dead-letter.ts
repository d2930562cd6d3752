import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDeadLetterHandler } from '../lib/executor/dead-letter';
import { requireFunctionConfig } from '../lib/function-config';
import { rotaHandler } from '../lib/observability/aws-calls';
import { logger } from '../lib/observability/logger';
import { runtime } from '../lib/runtime';

requireFunctionConfig(['table']);

const rt = runtime();
const handleRecord = createDeadLetterHandler({ runs: rt.runs, tasks: rt.tasks, logger });

/** Consumes the runs DLQ and marks each dead-lettered run failed. */
export const handler = rotaHandler(
  'dead-letter',
  middy(
    async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
      processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), { context }),
  ).use(injectLambdaContext(logger)),
);
