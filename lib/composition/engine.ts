import { createExecutor, type Executor } from '../executor/executor';
import { logger } from '../observability/logger';
import { type AwsTargetRunners, createAwsTargetRunners } from '../runners/aws-targets';
import type { DeploymentInflux } from '../runners/flux-target';
import type { RunnerServices } from '../systems/services';
import type { RunnerRegistry } from '../systems/system';
import { sqsClient } from './clients';
import { runQueue, stores, targetPolicy } from './core';
import { runMetrics } from './metrics';
import type { Part, Rota } from './root';
import { secretString } from './secrets';
import { systemServices } from './systems';
import { eventBridgeTargetClient, lambdaClient, snsClient } from './target-clients';

/**
 * The `sqs`, `sns`, `eventbridge` and `lambda` targets, on the root's clients and their
 * configured endpoints; all but SQS (the runs queue's client) load on their kind's first run.
 */
export const awsTargets: Part<AwsTargetRunners> = (rota) =>
  createAwsTargetRunners(
    {
      sqs: rota.get(sqsClient),
      sns: rota.get(snsClient),
      eventBridge: rota.get(eventBridgeTargetClient),
      lambda: rota.get(lambdaClient),
    },
    { region: rota.config.AWS_REGION, ownQueueUrls: rota.get(targetPolicy).ownQueueUrls },
  );

/**
 * The operator's InfluxDB for Flux tasks, when one is configured. A Secrets Manager
 * token is read once, on the first Flux run, so a cold start pays nothing for it.
 */
export const deploymentInflux: Part<DeploymentInflux | undefined> = (rota) => {
  const { ROTA_INFLUX_URL: url, ROTA_INFLUX_ORG: org, ROTA_INFLUX_TOKEN: token } = rota.config;
  const secretArn = rota.config.ROTA_INFLUX_TOKEN_SECRET_ARN;
  if (!url) return undefined;
  let read: Promise<string | undefined> | undefined;
  const fromSecret = rota.get(secretString);
  return {
    url,
    org,
    token: () => {
      // A failed read is not kept: the next run tries again.
      read ??= (secretArn ? fromSecret(secretArn) : Promise.resolve(token)).catch((error: unknown) => {
        read = undefined;
        throw error;
      });
      return read;
    },
  };
};

/** What every system's runner gets: the root's parts (the AWS targets above among them). */
export const runnerServices: Part<RunnerServices> = systemServices;

/** The executor over the root's stores and queue, running `runners`. */
export function executorWith(rota: Rota, runners: RunnerRegistry): Executor {
  const { tasks, runs, leases } = rota.get(stores);
  const claimTtlMs = rota.config.ROTA_CLAIM_TTL_SECONDS * 1000;
  const metrics = rota.get(runMetrics);
  return createExecutor({
    tasks,
    runs,
    leases,
    queue: rota.get(runQueue),
    runners,
    logger,
    // The claim TTL is configurable; heartbeats keep a third of it, so two may fail in a row.
    options: { claimTtlMs, heartbeatMs: claimTtlMs / 3 },
    onLag: (lagMs) => metrics.scheduleLag(lagMs),
  });
}
