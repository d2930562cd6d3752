import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { config, type RotaConfig } from './config';
import { createTaskStore } from './store/task-store';
import { createTaskService } from './task/task-service';

/**
 * The composition root: SDK clients and stores are built once per process (once
 * per Lambda cold start) and shared by every invocation.
 */
export function createRuntime(cfg: RotaConfig) {
  const dynamo = new DynamoDBClient({
    region: cfg.AWS_REGION,
    ...(cfg.ROTA_DYNAMODB_ENDPOINT ? { endpoint: cfg.ROTA_DYNAMODB_ENDPOINT } : {}),
  });
  const sqs = new SQSClient({
    region: cfg.AWS_REGION,
    ...(cfg.ROTA_SQS_ENDPOINT ? { endpoint: cfg.ROTA_SQS_ENDPOINT, useQueueUrlAsEndpoint: false } : {}),
  });
  const tasks = createTaskStore({
    client: dynamo,
    tableName: cfg.ROTA_TABLE_NAME,
    dueShards: cfg.ROTA_DUE_SHARDS,
  });
  const taskService = createTaskService({ tasks });
  return { config: cfg, dynamo, sqs, tasks, taskService };
}

export type Runtime = ReturnType<typeof createRuntime>;

let current: Runtime | undefined;
export function runtime(): Runtime {
  current ??= createRuntime(config());
  return current;
}
