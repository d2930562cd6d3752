import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Run, RunLogEntry } from '../run/model';
import { runIDLowerBound, runIDUpperBound } from '../run/run-ids';
import type { RunStatus } from '../task/model';
import { BATCH_WRITE, GET, PUT, QUERY, type TableUse, UPDATE } from './access';
import { fromItem, whenConditionHolds } from './items';
import { ATTR, PARTITION, RUN_PREFIX, runSk, taskPk } from './keys';

/** What each part of the run store does to the table (see `TableUse`); runs live in their task's partition. */
export const RUN_STORE = {
  /** create, get, list, requestCancel, deleteAllForTask: the runs API. */
  requests: {
    name: 'run store: requests',
    actions: [PUT, GET, QUERY, UPDATE, BATCH_WRITE],
    keyPrefixes: [PARTITION.task],
  },
  /** get, claim, heartbeat, finish, create (retries), failUnfinished: the executor. */
  execution: { name: 'run store: execution', actions: [GET, PUT, UPDATE], keyPrefixes: [PARTITION.task] },
  /** failUnfinished: the dead-letter function. */
  failures: { name: 'run store: failUnfinished', actions: [UPDATE], keyPrefixes: [PARTITION.task] },
} as const satisfies Record<string, TableUse>;

export interface ClaimRequest {
  taskID: string;
  runID: string;
  token: string;
  now: number;
  claimTtlMs: number;
  /** Written when the claim creates the item (scheduled runs are materialised at start). */
  seed: Pick<Run, 'kind' | 'scheduledFor' | 'runAt' | 'attempt'>;
}

export type ClaimResult =
  | { claimed: true; run: Run; resumed: boolean }
  | { claimed: false; run: Run | undefined };

export interface FinishRequest {
  status: Extract<RunStatus, 'success' | 'failed' | 'canceled'>;
  finishedAt: string;
  log: RunLogEntry[];
  error?: string | undefined;
}

export interface ListRunsQuery {
  after?: string | undefined;
  limit: number;
  afterTime?: number | undefined;
  beforeTime?: number | undefined;
}

export interface RunStore {
  /** Creates a queued run (manual, or a retry); false if the id exists. */
  create(run: Run): Promise<boolean>;
  get(taskID: string, runID: string): Promise<Run | undefined>;
  /**
   * The exactly-once transition into `started`: succeeds only for a new or
   * `scheduled` run, or a `started` run whose claim expired (its executor died).
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Extends the claim; false when the run is no longer ours. */
  heartbeat(taskID: string, runID: string, token: string, claimExpiresAt: number): Promise<boolean>;
  /** Writes the final state if we still hold the claim; returns the stored run, or undefined if not ours. */
  finish(taskID: string, runID: string, token: string, result: FinishRequest): Promise<Run | undefined>;
  /** Cancels a queued run outright, or asks the executor of a started one to stop. */
  requestCancel(
    taskID: string,
    runID: string,
    at: string,
  ): Promise<'canceled' | 'requested' | 'final' | 'missing'>;
  /** Fails a run whose message was dead-lettered, unless it already finished. */
  failUnfinished(
    taskID: string,
    runID: string,
    seed: ClaimRequest['seed'],
    at: string,
    reason: string,
  ): Promise<Run | undefined>;
  /** Newest first, by scheduledFor. */
  list(taskID: string, query: ListRunsQuery): Promise<Run[]>;
  /** Removes every run and lease of a task (used when the task is deleted). */
  deleteAllForTask(taskID: string): Promise<number>;
}

export interface RunStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  retentionMs: number;
}

export function createRunStore({ client, tableName, retentionMs }: RunStoreOptions): RunStore {
  const key = (taskID: string, runID: string) =>
    marshall({ [ATTR.pk]: taskPk(taskID), [ATTR.sk]: runSk(runID) });
  const ttl = (now: number) => Math.floor((now + retentionMs) / 1000);

  const get = async (taskID: string, runID: string) => {
    const out = await client.send(
      new GetItemCommand({ TableName: tableName, Key: key(taskID, runID), ConsistentRead: true }),
    );
    return out.Item ? toRun(out.Item) : undefined;
  };

  return {
    async create(run) {
      const now = Date.now();
      const put = await whenConditionHolds(() =>
        client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall(
              { ...run, [ATTR.pk]: taskPk(run.taskID), [ATTR.sk]: runSk(run.id), [ATTR.ttl]: ttl(now) },
              { removeUndefinedValues: true },
            ),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': ATTR.pk },
          }),
        ),
      );
      return put !== undefined;
    },

    get,

    async claim({ taskID, runID, token, now, claimTtlMs, seed }) {
      const out = await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(taskID, runID),
            // if_not_exists keeps what a manual run already stored; the seed fills in a scheduled run.
            UpdateExpression:
              'SET #status = :started, startedAt = :startedAt, claimToken = :token, claimExpiresAt = :expires, ' +
              'id = :id, taskID = :taskID, kind = if_not_exists(kind, :kind), ' +
              'scheduledFor = if_not_exists(scheduledFor, :scheduledFor), attempt = if_not_exists(attempt, :attempt), ' +
              '#log = if_not_exists(#log, :emptyLog), #ttl = :ttl' +
              (seed.runAt ? ', runAt = if_not_exists(runAt, :runAt)' : '') +
              ' ADD claims :one',
            ConditionExpression:
              'attribute_not_exists(#pk) OR #status = :scheduled OR (#status = :started AND claimExpiresAt < :now)',
            ExpressionAttributeNames: {
              '#pk': ATTR.pk,
              '#status': 'status',
              '#log': 'log',
              '#ttl': ATTR.ttl,
            },
            ExpressionAttributeValues: marshall(
              {
                ':started': 'started',
                ':scheduled': 'scheduled',
                ':startedAt': new Date(now).toISOString(),
                ':token': token,
                ':expires': now + claimTtlMs,
                ':now': now,
                ':id': runID,
                ':taskID': taskID,
                ':kind': seed.kind,
                ':scheduledFor': seed.scheduledFor,
                ':attempt': seed.attempt,
                ':runAt': seed.runAt,
                ':emptyLog': [],
                ':ttl': ttl(now),
                ':one': 1,
              },
              { removeUndefinedValues: true },
            ),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      if (!out?.Attributes) return { claimed: false, run: await get(taskID, runID) };
      const run = toRun(out.Attributes);
      return { claimed: true, run, resumed: (run.claims ?? 1) > 1 };
    },

    async heartbeat(taskID, runID, token, claimExpiresAt) {
      const out = await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(taskID, runID),
            UpdateExpression: 'SET claimExpiresAt = :expires',
            ConditionExpression: 'claimToken = :token AND #status = :started',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: marshall({
              ':expires': claimExpiresAt,
              ':token': token,
              ':started': 'started',
            }),
          }),
        ),
      );
      return out !== undefined;
    },

    async finish(taskID, runID, token, result) {
      const now = Date.now();
      const out = await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(taskID, runID),
            UpdateExpression:
              'SET #status = :status, finishedAt = :finishedAt, #log = :log, #ttl = :ttl' +
              (result.error ? ', #error = :error' : '') +
              ' REMOVE claimToken, claimExpiresAt',
            // Cancel wins: only a canceled result may overwrite a run someone asked to cancel.
            ConditionExpression:
              result.status === 'canceled'
                ? 'claimToken = :token AND #status = :started'
                : 'claimToken = :token AND #status = :started AND attribute_not_exists(cancelRequested)',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#log': 'log',
              '#ttl': ATTR.ttl,
              ...(result.error ? { '#error': 'error' } : {}),
            },
            ExpressionAttributeValues: marshall(
              {
                ':status': result.status,
                ':finishedAt': result.finishedAt,
                ':log': result.log,
                ':ttl': ttl(now),
                ':token': token,
                ':started': 'started',
                ...(result.error ? { ':error': result.error } : {}),
              },
              { removeUndefinedValues: true },
            ),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return out?.Attributes ? toRun(out.Attributes) : undefined;
    },

    async requestCancel(taskID, runID, at) {
      const queued = await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(taskID, runID),
            UpdateExpression: 'SET #status = :canceled, finishedAt = :at',
            ConditionExpression: '#status = :scheduled',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: marshall({
              ':canceled': 'canceled',
              ':scheduled': 'scheduled',
              ':at': at,
            }),
          }),
        ),
      );
      if (queued) return 'canceled';
      const running = await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(taskID, runID),
            UpdateExpression: 'SET cancelRequested = :yes',
            ConditionExpression: '#status = :started',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: marshall({ ':yes': true, ':started': 'started' }),
          }),
        ),
      );
      if (running) return 'requested';
      return (await get(taskID, runID)) ? 'final' : 'missing';
    },

    async failUnfinished(taskID, runID, seed, at, reason) {
      const now = Date.now();
      const out = await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(taskID, runID),
            UpdateExpression:
              'SET #status = :failed, finishedAt = :at, #error = :reason, id = :id, taskID = :taskID, ' +
              'kind = if_not_exists(kind, :kind), scheduledFor = if_not_exists(scheduledFor, :scheduledFor), ' +
              'attempt = if_not_exists(attempt, :attempt), #ttl = :ttl, ' +
              '#log = list_append(if_not_exists(#log, :emptyLog), :entry) REMOVE claimToken, claimExpiresAt',
            ConditionExpression: 'attribute_not_exists(#pk) OR #status IN (:scheduled, :started)',
            ExpressionAttributeNames: {
              '#pk': ATTR.pk,
              '#status': 'status',
              '#error': 'error',
              '#log': 'log',
              '#ttl': ATTR.ttl,
            },
            ExpressionAttributeValues: marshall({
              ':failed': 'failed',
              ':scheduled': 'scheduled',
              ':started': 'started',
              ':at': at,
              ':reason': reason,
              ':id': runID,
              ':taskID': taskID,
              ':kind': seed.kind,
              ':scheduledFor': seed.scheduledFor,
              ':attempt': seed.attempt,
              ':ttl': ttl(now),
              ':emptyLog': [],
              ':entry': [{ time: at, message: reason }],
            }),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return out?.Attributes ? toRun(out.Attributes) : undefined;
    },

    async list(taskID, { after, limit, afterTime, beforeTime }) {
      const lower = `${RUN_PREFIX}${afterTime !== undefined ? runIDLowerBound(afterTime) : ''}`;
      let upper = `${RUN_PREFIX}${beforeTime !== undefined ? runIDUpperBound(beforeTime) : '~'}`;
      // `after` is a cursor in listing order (newest first): continue with older runs.
      if (after !== undefined && runSk(after) < upper) upper = runSk(after);
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lower AND :upper',
          ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
          ExpressionAttributeValues: marshall({ ':pk': taskPk(taskID), ':lower': lower, ':upper': upper }),
          ScanIndexForward: false,
          Limit: limit + 1,
        }),
      );
      // BETWEEN is inclusive; the cursor itself is not part of the next page.
      const runs = (out.Items ?? []).map(toRun).filter((run) => run.id !== after);
      return runs.slice(0, limit);
    },

    async deleteAllForTask(taskID) {
      let deleted = 0;
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
            ExpressionAttributeValues: marshall({ ':pk': taskPk(taskID) }),
            ProjectionExpression: '#pk, #sk',
            ExclusiveStartKey: startKey,
          }),
        );
        const keys = page.Items ?? [];
        for (let i = 0; i < keys.length; i += 25) {
          let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
          // Unprocessed items come back under load; retry them with a short backoff.
          for (let attempt = 0; requests.length > 0 && attempt < 8; attempt++) {
            const out = await client.send(
              new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }),
            );
            const left = out.UnprocessedItems?.[tableName] ?? [];
            deleted += requests.length - left.length;
            requests = left as typeof requests;
            if (requests.length) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
          }
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return deleted;
    },
  };
}

/** Claim bookkeeping stays inside the store; callers see the run. */
const CLAIM_ATTRS = ['claimToken', 'claimExpiresAt'];

function toRun(item: Record<string, AttributeValue>): Run {
  const run = fromItem<Run>(item, CLAIM_ATTRS);
  run.log ??= [];
  return run;
}
