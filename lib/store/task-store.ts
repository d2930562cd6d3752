import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Task } from '../task/model';
import { tableSender } from './table';
import { deleteTask, getTask, listTasks, putTask, queryDue } from './task-reads';
import type { CompletionRecord, DueTask, ListTasksQuery } from './task-types';
import {
  advanceSchedule,
  recordCompletion,
  replaceDefinition,
  taskItems,
  withCompletions,
} from './task-writes';

export { TASK_STORE } from './table-uses';

export type { CompletionRecord, DueTask, ListTasksQuery } from './task-types';

export interface TaskStore {
  /** Conditional create; false when the id already exists. */
  create(task: Task): Promise<boolean>;
  /** The task item as stored: its completion bookkeeping is the checkpoint (see `withCompletions`). */
  get(id: string): Promise<Task | undefined>;
  /**
   * The task with its latest* bookkeeping up to date: the checkpoint on the item folded
   * with the runs since it (one Query on the task's partition). What the APIs show.
   */
  withCompletions<T extends Task>(task: T): Promise<T>;
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
  /**
   * Moves the latest* bookkeeping forward, never backward. `seen` is the task as the
   * caller read it; a completion the checkpoint already shows (the same outcome again)
   * writes nothing.
   */
  recordCompletion(id: string, completion: CompletionRecord, seen?: Task): Promise<void>;
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
    withCompletions: (task) => withCompletions(items, task),
    recordCompletion: (id, completion, seen) => recordCompletion(items, id, completion, seen),
    delete: (id, type) => deleteTask(items, id, type),
    list: (query) => listTasks(items, query),
    queryDue: (shard, untilMs, cursor) => queryDue(items, shard, untilMs, cursor),
  };
}
