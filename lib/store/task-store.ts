import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { RunStatus, Task } from '../task/model';
import { DELETE, GET, PUT, type TableUse, UPDATE } from './access';
import { fromItem, whenConditionHolds } from './items';
import { ATTR, type DUE_PROJECTION, dueShard, INDEX, orgTypePk, PARTITION, taskKey } from './keys';

/** What each part of the task store does to the table (see `TableUse`). */
export const TASK_STORE = {
  /** create, get, replaceDefinition, delete, list: the API functions. */
  definitions: {
    name: 'task store: definitions',
    actions: [PUT, GET, UPDATE, DELETE],
    keyPrefixes: [PARTITION.task],
    queries: [INDEX.byOrgType],
  },
  /** list only: an API that checks which tasks refer to something. */
  lists: { name: 'task store: list', queries: [INDEX.byOrgType] },
  /** queryDue, advanceSchedule: the scheduler. */
  schedule: {
    name: 'task store: schedule',
    actions: [UPDATE],
    keyPrefixes: [PARTITION.task],
    queries: [INDEX.due],
  },
  /** get: the executor reads the task it runs. */
  reads: { name: 'task store: get', actions: [GET], keyPrefixes: [PARTITION.task] },
  /** recordCompletion: whoever finishes a run. */
  completions: { name: 'task store: recordCompletion', actions: [UPDATE], keyPrefixes: [PARTITION.task] },
} as const satisfies Record<string, TableUse>;

import { buildUpdate } from './update-expression';

/** Fields a definition write (create/update) owns. Bookkeeping written by runs is not among them. */
const DEFINITION_FIELDS = [
  'ownerID',
  'name',
  'description',
  'status',
  'every',
  'cron',
  'offset',
  'timezone',
  'concurrency',
  'timeout',
  'retry',
  'catchUp',
  'metadata',
  'latestScheduled',
  'nextRunAt',
  'revision',
  'updatedAt',
] as const satisfies readonly (keyof Task)[];

/** A task as the sparse due index projects it (see DUE_PROJECTION). */
export type DueTask = Pick<Task, (typeof DUE_PROJECTION)[number]>;

export interface ListTasksQuery {
  orgID: string;
  type: string;
  after?: string | undefined;
  limit: number;
  name?: string | undefined;
  status?: string | undefined;
}

export interface CompletionRecord {
  scheduledFor: string;
  finishedAt: string;
  status: Extract<RunStatus, 'success' | 'failed' | 'canceled'>;
  error?: string | undefined;
}

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
  /** The scheduler's advance of `latestScheduled`/`nextRunAt`, conditional on the version it read. */
  advanceSchedule(
    id: string,
    expectedVersion: number,
    change: { latestScheduled: string; nextRunAt: string | undefined },
  ): Promise<Task | undefined>;
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
  const indexAttributes = (task: Task) => ({
    [ATTR.orgTypePk]: orgTypePk(task.orgID, task.type),
    [ATTR.orgTypeSk]: task.id,
    ...dueAttributes(task),
  });

  /** Only active tasks with a next run carry the due attributes: the index stays sparse. */
  const dueAttributes = (task: Pick<Task, 'id' | 'status' | 'nextRunAt'>) =>
    task.status === 'active' && task.nextRunAt
      ? { [ATTR.duePk]: dueShard(task.id, dueShards), [ATTR.dueAt]: Date.parse(task.nextRunAt) }
      : {};

  return {
    async create(task) {
      return (
        (await whenConditionHolds(() =>
          client.send(
            new PutItemCommand({
              TableName: tableName,
              Item: marshall(
                { ...task, ...taskKey(task.id), ...indexAttributes(task) },
                { removeUndefinedValues: true },
              ),
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': ATTR.pk },
            }),
          ),
        )) !== undefined
      );
    },

    async get(id) {
      const out = await client.send(
        new GetItemCommand({ TableName: tableName, Key: marshall(taskKey(id)), ConsistentRead: true }),
      );
      return out.Item ? toTask(out.Item) : undefined;
    },

    async replaceDefinition(task, expectedVersion) {
      const set: Record<string, unknown> = { version: expectedVersion + 1, ...dueAttributes(task) };
      for (const field of DEFINITION_FIELDS) set[field] = task[field];
      const remove = task.status === 'active' && task.nextRunAt ? [] : [ATTR.duePk, ATTR.dueAt];
      return conditionalUpdate(task.id, buildUpdate(set, remove), expectedVersion, task.type);
    },

    async advanceSchedule(id, expectedVersion, change) {
      const set: Record<string, unknown> = {
        version: expectedVersion + 1,
        latestScheduled: change.latestScheduled,
        nextRunAt: change.nextRunAt,
      };
      const remove: string[] = [];
      if (change.nextRunAt) {
        set[ATTR.duePk] = dueShard(id, dueShards);
        set[ATTR.dueAt] = Date.parse(change.nextRunAt);
      } else remove.push(ATTR.duePk, ATTR.dueAt);
      return conditionalUpdate(id, buildUpdate(set, remove), expectedVersion);
    },

    async recordCompletion(id, completion) {
      // Two independent forward-only moves: the overall latest, then the per-outcome one.
      // Each is a conditional write that loses harmlessly to a newer completion.
      const outcomeField =
        completion.status === 'success'
          ? 'latestSuccess'
          : completion.status === 'failed'
            ? 'latestFailure'
            : undefined;
      const base = {
        latestCompleted: completion.scheduledFor,
        lastRunStatus: completion.status,
        lastRunError: completion.error,
      };
      const combined = outcomeField ? { ...base, [outcomeField]: completion.scheduledFor } : base;
      const moved = await forwardUpdate(id, combined, 'latestCompleted', completion.scheduledFor);
      if (!moved && outcomeField) {
        await forwardUpdate(
          id,
          { [outcomeField]: completion.scheduledFor },
          outcomeField,
          completion.scheduledFor,
        );
      }
    },

    async delete(id, type) {
      return (
        (await whenConditionHolds(() =>
          client.send(
            new DeleteItemCommand({
              TableName: tableName,
              Key: marshall(taskKey(id)),
              ConditionExpression: 'attribute_exists(#pk) AND #type = :type',
              ExpressionAttributeNames: { '#pk': ATTR.pk, '#type': 'type' },
              ExpressionAttributeValues: marshall({ ':type': type }),
            }),
          ),
        )) !== undefined
      );
    },

    async list({ orgID, type, after, limit, name, status }) {
      const names: Record<string, string> = { '#pk': ATTR.orgTypePk };
      const values: Record<string, unknown> = { ':pk': orgTypePk(orgID, type) };
      let keyCondition = '#pk = :pk';
      // DynamoDB refuses an empty-string key value, so the cursor condition exists only with a cursor.
      if (after !== undefined) {
        keyCondition += ' AND #sk > :after';
        names['#sk'] = ATTR.orgTypeSk;
        values[':after'] = after;
      }
      const filters: string[] = [];
      if (name !== undefined) {
        filters.push('#name = :name');
        names['#name'] = 'name';
        values[':name'] = name;
      }
      if (status !== undefined) {
        filters.push('#status = :status');
        names['#status'] = 'status';
        values[':status'] = status;
      }
      const tasks: Task[] = [];
      let startKey: Record<string, unknown> | undefined;
      // Filters can thin a page, so keep reading until one extra match proves there is more.
      do {
        const out = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: INDEX.byOrgType,
            KeyConditionExpression: keyCondition,
            FilterExpression: filters.length ? filters.join(' AND ') : undefined,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: marshall(values),
            Limit: limit + 1,
            ExclusiveStartKey: startKey ? marshall(startKey) : undefined,
          }),
        );
        for (const item of out.Items ?? []) tasks.push(toTask(item));
        startKey = out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined;
      } while (startKey && tasks.length <= limit);
      return { tasks: tasks.slice(0, limit), more: tasks.length > limit };
    },

    async queryDue(shard, untilMs, cursor) {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEX.due,
          KeyConditionExpression: '#pk = :shard AND #due <= :until',
          ExpressionAttributeNames: { '#pk': ATTR.duePk, '#due': ATTR.dueAt },
          ExpressionAttributeValues: marshall({ ':shard': shard, ':until': untilMs }),
          ExclusiveStartKey: cursor ? marshall(cursor) : undefined,
        }),
      );
      return {
        tasks: (out.Items ?? []).map(toTask),
        cursor: out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined,
      };
    },
  };

  async function conditionalUpdate(
    id: string,
    update: ReturnType<typeof buildUpdate>,
    expectedVersion: number,
    type?: string,
  ): Promise<Task | undefined> {
    const names = { ...update.names, '#version': 'version', '#pk': ATTR.pk };
    const values: Record<string, unknown> = { ...update.values, ':expectedVersion': expectedVersion };
    let condition = 'attribute_exists(#pk) AND #version = :expectedVersion';
    if (type !== undefined) {
      condition += ' AND #type = :type';
      Object.assign(names, { '#type': 'type' });
      values[':type'] = type;
    }
    const out = await whenConditionHolds(() =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: marshall(taskKey(id)),
          UpdateExpression: update.expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!out) return undefined;
    return out.Attributes ? toTask(out.Attributes) : undefined;
  }

  async function forwardUpdate(
    id: string,
    fields: Record<string, unknown>,
    guardField: string,
    value: string,
  ): Promise<boolean> {
    const update = buildUpdate(fields, []);
    return (
      (await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: marshall(taskKey(id)),
            UpdateExpression: update.expression,
            ConditionExpression:
              'attribute_exists(#pk) AND (attribute_not_exists(#guard) OR #guard <= :guard)',
            ExpressionAttributeNames: { ...update.names, '#pk': ATTR.pk, '#guard': guardField },
            ExpressionAttributeValues: marshall(
              { ...update.values, ':guard': value },
              { removeUndefinedValues: true },
            ),
          }),
        ),
      )) !== undefined
    );
  }
}

const toTask = (item: Record<string, AttributeValue>) => fromItem<Task>(item);
