import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { defineFunction } from '../../lib/composition/function';
import { runRequestHandler } from '../../lib/composition/run-requests';
import type { RunRequestEvent } from '../../lib/events/run-requests';
import { logger } from '../../lib/observability/logger';

/** Fired by the bus's "Run Requested" rule: runs the task as a manual run, or logs why not. */
export const runRequests = defineFunction({
  name: 'run-requests',
  needs: ['table', 'runsQueue'],
  build: (rota) => {
    const handle = rota.get(runRequestHandler);
    return middy(async (event: RunRequestEvent, _context: Context) => handle(event)).use(
      injectLambdaContext(logger),
    );
  },
});
