import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { recorded } from '../observability/aws-calls';
import { logger } from '../observability/logger';
import { recordScheduleLag } from '../observability/metrics';
import { createAwsTargetRunners } from '../runners/aws-targets';
import type { Runtime } from '../runtime';
import { checksSystem } from '../systems/checks/definition';
import { createCheckRunner } from '../systems/checks/runner';
import { notificationRulesSystem } from '../systems/notifications/rule-model';
import { createRuleRunner } from '../systems/notifications/rule-runner';
import { createRunnerRegistry, type RunnableSystem, runnable } from '../systems/system';
import { tasksSystem } from '../systems/tasks/definition';
import { createTaskRunner } from '../systems/tasks/runner';
import { createExecutor, type ExecutorOptions } from './executor';

/** Every system the executor can run. A new system adds its runner here. */
export function createRunnableSystems(rt: Runtime): RunnableSystem[] {
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
  const policy = rt.targetPolicy;
  return [
    runnable(tasksSystem, createTaskRunner({ policy, aws })),
    runnable(checksSystem, createCheckRunner({ statuses: rt.statuses, policy })),
    runnable(
      notificationRulesSystem,
      createRuleRunner({ statuses: rt.statuses, endpoints: rt.endpoints, log: rt.notificationLog, policy }),
    ),
  ];
}

export function createExecutorFromRuntime(rt: Runtime, options?: Partial<ExecutorOptions>) {
  if (!rt.queue) throw new Error('ROTA_RUNS_QUEUE_URL is required by the executor');
  return createExecutor({
    tasks: rt.tasks,
    runs: rt.runs,
    leases: rt.leases,
    queue: rt.queue,
    runners: createRunnerRegistry(createRunnableSystems(rt)),
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
