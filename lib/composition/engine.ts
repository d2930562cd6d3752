import { createExecutor, type Executor } from '../executor/executor';
import { logger } from '../observability/logger';
import { type AwsTargetRunners, createAwsTargetRunners } from '../runners/aws-targets';
import { checksSystem } from '../systems/checks/definition';
import { createCheckRunner } from '../systems/checks/runner';
import { notificationRulesSystem } from '../systems/notifications/rule-model';
import { createRuleRunner } from '../systems/notifications/rule-runner';
import { createRunnerRegistry, type RunnableSystem, runnable } from '../systems/system';
import { tasksSystem } from '../systems/tasks/definition';
import { createTaskRunner } from '../systems/tasks/runner';
import { eventBridgeClient, lambdaClient, snsClient, sqsClient } from './clients';
import { runQueue, secretBox, stores, systemStores, targetPolicy } from './core';
import { runMetrics } from './metrics';
import type { Part } from './root';

/** The `sqs`, `sns`, `eventbridge` and `lambda` targets, on the root's clients and their configured endpoints. */
export const awsTargets: Part<AwsTargetRunners> = (rota) =>
  createAwsTargetRunners(
    {
      sqs: rota.get(sqsClient),
      sns: rota.get(snsClient),
      eventBridge: rota.get(eventBridgeClient),
      lambda: rota.get(lambdaClient),
    },
    { region: rota.config.AWS_REGION, ownQueueUrls: rota.get(targetPolicy).ownQueueUrls },
  );

/** Every system the executor can run. A new system adds its runner here. */
export const runnableSystems: Part<RunnableSystem[]> = (rota) => {
  const policy = rota.get(targetPolicy);
  const secrets = rota.get(secretBox);
  const { statuses, endpoints, notificationLog } = rota.get(systemStores);
  return [
    runnable(tasksSystem, createTaskRunner({ policy, aws: rota.get(awsTargets), secrets })),
    runnable(checksSystem, createCheckRunner({ statuses, policy, secrets })),
    runnable(
      notificationRulesSystem,
      createRuleRunner({ statuses, endpoints, log: notificationLog, policy, secrets }),
    ),
  ];
};

export const executor: Part<Executor> = (rota) => {
  const { tasks, runs, leases } = rota.get(stores);
  const claimTtlMs = rota.config.ROTA_CLAIM_TTL_SECONDS * 1000;
  const metrics = rota.get(runMetrics);
  return createExecutor({
    tasks,
    runs,
    leases,
    queue: rota.get(runQueue),
    runners: createRunnerRegistry(rota.get(runnableSystems)),
    logger,
    // The claim TTL is configurable; heartbeats keep a third of it, so two may fail in a row.
    options: { claimTtlMs, heartbeatMs: claimTtlMs / 3 },
    onLag: (lagMs) => metrics.scheduleLag(lagMs),
  });
};
