import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { authConfig } from './auth/config';
import { createOrgQuota } from './auth/org-quota';
import { config, type RotaConfig } from './config';
import type { TargetPolicy } from './net/address-policy';
import { declareResource, recorded } from './observability/aws-calls';
import { logger } from './observability/logger';
import { createRunQueue } from './queue/run-queue';
import { createSqsClient } from './queue/sqs-client';
import { createRunService } from './run/run-service';
import { createLeaseStore } from './store/lease-store';
import { createRunStore } from './store/run-store';
import { createTaskStore } from './store/task-store';
import { createStatusStore } from './systems/checks/status-store';
import { createEndpointStore } from './systems/notifications/endpoint-store';
import { createNotificationLogStore } from './systems/notifications/log-store';
import { createTaskService } from './task/task-service';

/**
 * The composition root: SDK clients and stores are built once per process (once
 * per Lambda cold start) and shared by every invocation.
 */
export function createRuntime(cfg: RotaConfig) {
  const dynamo = recorded(
    new DynamoDBClient({
      region: cfg.AWS_REGION,
      ...(cfg.ROTA_DYNAMODB_ENDPOINT ? { endpoint: cfg.ROTA_DYNAMODB_ENDPOINT } : {}),
    }),
  );
  const sqs = recorded(createSqsClient(cfg));
  const tableName = cfg.ROTA_TABLE_NAME;
  declareResource('table', tableName);
  if (cfg.ROTA_RUNS_QUEUE_URL) declareResource('runsQueue', cfg.ROTA_RUNS_QUEUE_URL);
  const tasks = createTaskStore({ client: dynamo, tableName, dueShards: cfg.ROTA_DUE_SHARDS });
  const runs = createRunStore({
    client: dynamo,
    tableName,
    retentionMs: cfg.ROTA_RUN_RETENTION_DAYS * 86_400_000,
    openShards: cfg.ROTA_DUE_SHARDS,
  });
  const leases = createLeaseStore({ client: dynamo, tableName });
  const queue = cfg.ROTA_RUNS_QUEUE_URL
    ? createRunQueue({ client: sqs, queueUrl: cfg.ROTA_RUNS_QUEUE_URL })
    : undefined;
  const taskService = createTaskService({
    tasks,
    quota: createOrgQuota({ client: dynamo, tableName, limit: authConfig().ROTA_MAX_TASKS_PER_ORG }),
    // Runs and leases live under the task's partition; without the task they are unreachable.
    onTaskDeleted: async (task) => {
      await runs.deleteAllForTask(task.id);
    },
  });
  const runService = createRunService({
    runs,
    queue,
    logger,
    stallGraceMs: cfg.ROTA_CLAIM_TTL_SECONDS * 1000,
  });
  const targetPolicy: TargetPolicy = {
    allowPrivate: cfg.ROTA_ALLOW_PRIVATE_TARGETS,
    allowedHosts: cfg.ROTA_ALLOWED_TARGET_HOSTS,
    reservedPorts: cfg.ROTA_RESERVED_TARGET_PORTS,
    awsRegion: cfg.AWS_REGION,
    ownQueueUrls: cfg.ROTA_RUNS_QUEUE_URL ? [cfg.ROTA_RUNS_QUEUE_URL] : [],
  };
  const retentionMs = cfg.ROTA_RUN_RETENTION_DAYS * 86_400_000;
  // System-owned items (check statuses, notification logs, endpoints) share the table.
  const statuses = createStatusStore({ client: dynamo, tableName, retentionMs });
  const endpoints = createEndpointStore({ client: dynamo, tableName });
  const notificationLog = createNotificationLogStore({ client: dynamo, tableName, retentionMs });
  return {
    config: cfg,
    dynamo,
    sqs,
    tasks,
    runs,
    leases,
    queue,
    taskService,
    runService,
    targetPolicy,
    statuses,
    endpoints,
    notificationLog,
  };
}

export type Runtime = ReturnType<typeof createRuntime>;

let current: Runtime | undefined;
export function runtime(): Runtime {
  current ??= createRuntime(config());
  return current;
}
