import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Task } from '../task/model';
import { tableSender } from './table';
import { deleteTask, getTask, listTasks, putTask, queryDue } from './task-reads';
import type { CompletionRecord, DueTask, ListTasksQuery } from './task-types';
import { advanceSchedule, recordCompletion, replaceDefinition, taskItems } from './task-writes';

export { TASK_STORE } from './table-uses';

export type { CompletionRecord, DueTask, ListTasksQuery } from './task-types';

export interface TaskStore {
  /** Conditional create; false when the id already exists. */
  create(task: Task): Promise<boolean>;
  get(id: string): Promise<Task | undefined>;
  /**
   * Writes the whole definition and its next run time in one conditional write
   * against `expectedVersion`. Returns the stored task, or undefined when the
   * version moved (a lost race).
   */
  replaceDefinition(task: Task, expectedVersion: number): Promise<Task | undefined>;
  /** The scheduler's advance of `latestScheduled`/`nextRunAt`, conditional on the version it read; false when the version moved. */
  advanceSchedule(
    id: string,
    expectedVersion: number,
    change: { latestScheduled: string; nextRunAt: string | undefined },
  ): Promise<boolean>;
  /** Moves the latest* bookkeeping forward; never backward. */
  recordCompletion(id: string, completion: CompletionRecord): Promise<void>;
  /** Deletes when the task is still of `type`; false when it was not there. */
  delete(id: string, type: string): Promise<boolean>;
  list(query: ListTasksQuery): Promise<{ tasks: Task[]; more: boolean }>;
  /** One page of the due index for one shard, oldest due first: the scheduling fields only. */
  queryDue(
    shard: string,
    untilMs: number,
    cursor?: Record<string, unknown>,
  ): Promise<{ tasks: DueTask[]; cursor?: Record<string, unknown> | undefined }>;
}

export interface TaskStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  dueShards: number;
}

export function createTaskStore({ client, tableName, dueShards }: TaskStoreOptions): TaskStore {
  const items = taskItems({ tableName, send: tableSender(client), dueShards });
  return {
    create: (task) => putTask(items, task),
    get: (id) => getTask(items, id),
    replaceDefinition: (task, expectedVersion) => replaceDefinition(items, task, expectedVersion),
    advanceSchedule: (id, expectedVersion, change) => advanceSchedule(items, id, expectedVersion, change),
    recordCompletion: (id, completion) => recordCompletion(items, id, completion),
    delete: (id, type) => deleteTask(items, id, type),
    list: (query) => listTasks(items, query),
    queryDue: (shard, untilMs, cursor) => queryDue(items, shard, untilMs, cursor),
  };
}
