import { createOrgQuota } from '../auth/org-quota';
import { ConfigError, required } from '../config';
import type { TargetPolicy } from '../net/address-policy';
import { declareResource } from '../observability/aws-calls';
import { logger } from '../observability/logger';
import { createRunQueue, type RunQueue } from '../queue/run-queue';
import { createRunService } from '../run/run-service';
import { createLeaseStore } from '../store/lease-store';
import { createRunStore } from '../store/run-store';
import { createTaskStore } from '../store/task-store';
import { createTaskService } from '../task/task-service';
import { dynamoDbClient, sqsClient } from './clients';
import type { Part, Rota } from './root';

/** The table and its client, declared to the IAM recorder once; a system's own stores are built on it too. */
export const table: Part<{ client: ReturnType<typeof dynamoDbClient>; tableName: string }> = (rota) => {
  const tableName = required(rota.config, 'ROTA_TABLE_NAME');
  declareResource('table', tableName);
  return { client: rota.get(dynamoDbClient), tableName };
};

/** How long runs (and what systems record per run, such as check statuses) are kept. */
export const retentionMs = (rota: Rota) => rota.config.ROTA_RUN_RETENTION_DAYS * 86_400_000;

/** The core's stores: tasks, runs and leases share the table. */
export const stores: Part<{
  tasks: ReturnType<typeof createTaskStore>;
  runs: ReturnType<typeof createRunStore>;
  leases: ReturnType<typeof createLeaseStore>;
}> = (rota) => {
  const { client, tableName } = rota.get(table);
  const dueShards = rota.config.ROTA_DUE_SHARDS;
  return {
    tasks: createTaskStore({ client, tableName, dueShards }),
    runs: createRunStore({ client, tableName, retentionMs: retentionMs(rota), openShards: dueShards }),
    leases: createLeaseStore({ client, tableName }),
  };
};

/** The runs queue, when the configuration names one (API functions without it still start). */
export const optionalRunQueue: Part<RunQueue | undefined> = (rota) => {
  const queueUrl = rota.config.ROTA_RUNS_QUEUE_URL;
  if (!queueUrl) return undefined;
  declareResource('runsQueue', queueUrl);
  return createRunQueue({ client: rota.get(sqsClient), queueUrl });
};

/** The runs queue, for the parts that cannot work without it. */
export const runQueue: Part<RunQueue> = (rota) => {
  const queue = rota.get(optionalRunQueue);
  if (!queue) throw new ConfigError('invalid Rota configuration: ROTA_RUNS_QUEUE_URL: required');
  return queue;
};

export const taskService: Part<ReturnType<typeof createTaskService>> = (rota) => {
  const { client, tableName } = rota.get(table);
  const { runs, tasks } = rota.get(stores);
  return createTaskService({
    tasks,
    quota: createOrgQuota({ client, tableName, limit: rota.config.ROTA_MAX_TASKS_PER_ORG }),
    // Runs and leases live under the task's partition; without the task they are unreachable.
    onTaskDeleted: async (task) => {
      await runs.deleteAllForTask(task.id);
    },
  });
};

export const runService: Part<ReturnType<typeof createRunService>> = (rota) =>
  createRunService({
    runs: rota.get(stores).runs,
    leases: rota.get(stores).leases,
    queue: rota.get(optionalRunQueue),
    logger,
    stallGraceMs: rota.config.ROTA_CLAIM_TTL_SECONDS * 1000,
  });

export const targetPolicy: Part<TargetPolicy> = ({ config }) => ({
  allowPrivate: config.ROTA_ALLOW_PRIVATE_TARGETS,
  allowedHosts: config.ROTA_ALLOWED_TARGET_HOSTS,
  reservedPorts: config.ROTA_RESERVED_TARGET_PORTS,
  awsRegion: config.AWS_REGION,
  ownQueueUrls: config.ROTA_RUNS_QUEUE_URL ? [config.ROTA_RUNS_QUEUE_URL] : [],
});
