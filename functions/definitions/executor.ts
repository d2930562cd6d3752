import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { executorWith, runnerServices } from '../../lib/composition/engine';
import { defineFunction, lambdaHandler } from '../../lib/composition/function';
import { runMetrics } from '../../lib/composition/metrics';
import { handleRunRecord } from '../../lib/executor/sqs';
import { logger } from '../../lib/observability/logger';
import type { RunnerServices } from '../../lib/systems/services';
import { engineIn, runnersOf, type SystemEngine } from '../../lib/systems/system';

type Env = Readonly<Record<string, string | undefined>>;

/** SQS event source (ReportBatchItemFailures): each record is one run of one of `engines`' task types. */
export function executorFunction(engines: readonly SystemEngine<RunnerServices>[]) {
  return defineFunction({
    name: 'executor',
    needs: ['table', 'runsQueue', 'secretsKey'],
    build: (rota) => {
      const runs = executorWith(rota, runnersOf(engines, rota.get(runnerServices)));
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
}

/**
 * What the executor's generated entry (infra/entries.ts) runs at module scope: the
 * engine of each task type among its source file's exports. The entry imports the
 * registry's engine files and no route table, so neither does the bundle.
 */
export function executorLambda(
  engines: readonly (readonly [source: Readonly<Record<string, unknown>>, type: string])[],
  env: Env,
) {
  return lambdaHandler(
    executorFunction(engines.map(([source, type]) => engineIn<RunnerServices>(source, type))),
    env,
  );
}
