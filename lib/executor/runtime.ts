import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { recorded } from '../observability/aws-calls';
import { logger } from '../observability/logger';
import { recordScheduleLag } from '../observability/metrics';
import { createAwsTargetRunners } from '../runners/aws-targets';
import type { Runtime } from '../runtime';
import { SYSTEMS } from '../systems/registry';
import type { RunnerRegistry } from '../systems/system';
import { createExecutor, type ExecutorOptions } from './executor';

/** The runner of every registered system (lib/systems/registry.ts), over the executor's clients. */
export function createRunners(rt: Runtime): RunnerRegistry {
  const region = rt.config.AWS_REGION;
  const aws = createAwsTargetRunners(
    {
      sqs: rt.sqs,
      sns: recorded(new SNSClient({ region })),
      eventBridge: recorded(new EventBridgeClient({ region })),
      lambda: recorded(new LambdaClient({ region })),
    },
    { region, ownQueueUrls: rt.targetPolicy.ownQueueUrls },
  );
  return SYSTEMS.runners({ ...rt, aws });
}

export function createExecutorFromRuntime(rt: Runtime, options?: Partial<ExecutorOptions>) {
  if (!rt.queue) throw new Error('ROTA_RUNS_QUEUE_URL is required by the executor');
  return createExecutor({
    tasks: rt.tasks,
    runs: rt.runs,
    leases: rt.leases,
    queue: rt.queue,
    runners: createRunners(rt),
    logger,
    // The claim TTL is configurable; heartbeats keep a third of it, so two may fail in a row.
    options: {
      claimTtlMs: rt.config.ROTA_CLAIM_TTL_SECONDS * 1000,
      heartbeatMs: (rt.config.ROTA_CLAIM_TTL_SECONDS * 1000) / 3,
      ...options,
    },
    onLag: (lagMs) => recordScheduleLag(lagMs),
  });
}
