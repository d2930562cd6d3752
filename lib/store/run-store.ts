import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Run, RunLogEntry } from '../run/model';
import { runIDLowerBound, runIDUpperBound } from '../run/run-ids';
import type { RunStatus } from '../task/model';
import { BATCH_WRITE, GET, PUT, QUERY, type TableUse, UPDATE } from './access';
import { fromItem, whenConditionHolds } from './items';
import { ATTR, INDEX, openShard, PARTITION, RUN_PREFIX, runSk, taskPk } from './keys';

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
  /** queryOpen, inspect, postponeOpen: the reconciler. */
  reconciliation: {
    name: 'run store: reconciliation',
    actions: [GET, UPDATE],
    keyPrefixes: [PARTITION.task],
    queries: [INDEX.open],
  },
} as const satisfies Record<string, TableUse>;

export interface ClaimRequest {
  taskID: string;
  runID: string;
  token: string;
  now: number;
  claimTtlMs: number;
  /** Written when the claim creates the item (scheduled runs are materialised at start). */
  seed: Pick<Run, 'kind' | 'scheduledFor' | 'runAt' | 'attempt'>;
  /**
   * For a run in the open index: when it counts as stalled once started (start + timeout
   * + grace). Absent for a plain scheduled run, whose claim writes nothing more.
   */
  stallAt?: number | undefined;
}

/** A run with the state the engine decides on, which the API never shows. */
export interface RunState {
  run: Run;
  /** While `started`: until when the executor holding it counts as alive. */
  claimExpiresAt?: number | undefined;
  /** While in the open index: when it counts as stalled. */
  openAt?: number | undefined;
  /** The run waits for a concurrency slot (and has a waiter marker). */
  waiting: boolean;
}

export type ClaimResult =
  | { claimed: true; run: Run; resumed: boolean }
  | { claimed: false; state: RunState | undefined };

export interface FinishRequest {
  status: Extract<RunStatus, 'success' | 'failed' | 'canceled'>;
  finishedAt: string;
  log: RunLogEntry[];
  error?: string | undefined;
}

export interface WaitRequest {
  taskID: string;
  runID: string;
  seed: ClaimRequest['seed'];
  /** The schedule revision of a scheduled run, kept so a later delivery can drop a stale one. */
  revision?: number | undefined;
  now: number;
  /** When the run counts as stalled if its message does not come back. */
  openAt: number;
  /** Identifies the one message that carries the waiting run from now on. */
  waitToken: string;
  /** The token of the message doing this; a copy without the current token is refused. */
  expectedToken?: string | undefined;
  /** Appended to the run's log (the first wait says why). */
  logLine?: string | undefined;
}

/** An entry of the open index: what the reconciler needs to deliver the run again. */
export interface OpenRun {
  taskID: string;
  runID: string;
  status: RunStatus;
  kind: Run['kind'];
  scheduledFor: string;
  attempt: number;
  revision?: number | undefined;
  openAt: number;
}

export interface ListRunsQuery {
  after?: string | undefined;
  limit: number;
  afterTime?: number | undefined;
  beforeTime?: number | undefined;
}

export interface RunStore {
  /** Creates a queued run (manual, or a retry) in the open index until `openAt`; false if the id exists. */
  create(run: Run, openAt: number): Promise<boolean>;
  get(taskID: string, runID: string): Promise<Run | undefined>;
  /** The run with its claim and open-index state. */
  inspect(taskID: string, runID: string): Promise<RunState | undefined>;
  /**
   * The exactly-once transition into `started`: succeeds only for a new or
   * `scheduled` run, or a `started` run whose claim expired (its executor died).
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Extends the claim; false when the run is no longer ours. */
  heartbeat(taskID: string, runID: string, token: string, claimExpiresAt: number): Promise<boolean>;
  /** Writes the final state if we still hold the claim; returns the stored run, or undefined if not ours. */
  finish(taskID: string, runID: string, token: string, result: FinishRequest): Promise<Run | undefined>;
  /**
   * Cancels a queued run, or a started one that no live executor holds (its claim
   * expired), outright; asks the executor of a live one to stop.
   */
  requestCancel(
    taskID: string,
    runID: string,
    now: number,
  ): Promise<'canceled' | 'requested' | 'final' | 'missing'>;
  /** Fails a run whose message was dead-lettered, unless it already finished. */
  failUnfinished(
    taskID: string,
    runID: string,
    seed: ClaimRequest['seed'],
    at: string,
    reason: string,
  ): Promise<Run | undefined>;
  /**
   * Stores the run as `scheduled` and waiting (creating it if needed), in the open
   * index. Refused when the run is no longer scheduled, or when another message
   * already carries it (a different `waitToken` whose `openAt` has not passed).
   */
  wait(request: WaitRequest): Promise<{ waiting: true } | { waiting: false; state: RunState | undefined }>;
  /**
   * Moves a run whose executor died holding a lease slot (the slot's token is the
   * claim's) back to `scheduled` and waiting, so it never counts as started beside
   * the run that takes the slot. Undefined when the run is not started under `token`.
   */
  requeueStalled(
    taskID: string,
    runID: string,
    token: string,
    change: { now: number; openAt: number; logLine: string },
  ): Promise<Run | undefined>;
  /** Ends a run that will never run (its task changed or went away), unless a live executor holds it. */
  abandon(taskID: string, runID: string, now: number, reason: string): Promise<Run | undefined>;
  /** One page of the open index for one shard: runs whose `openAt` is at or before `untilMs`. */
  queryOpen(
    shard: string,
    untilMs: number,
    cursor?: Record<string, unknown>,
  ): Promise<{ runs: OpenRun[]; cursor?: Record<string, unknown> | undefined }>;
  /**
   * Moves a run's `openAt` on, if it is still `seen` (nobody else moved it meanwhile).
   * A waiting run's carrier is presumed lost then: the next of its messages to arrive
   * carries it (see `wait`).
   */
  postponeOpen(taskID: string, runID: string, seen: number, openAt: number): Promise<boolean>;
  /** Newest first, by scheduledFor. */
  list(taskID: string, query: ListRunsQuery): Promise<Run[]>;
  /** Removes every run and lease of a task (used when the task is deleted). */
  deleteAllForTask(taskID: string): Promise<number>;
}

export interface RunStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  retentionMs: number;
  /** Partitions of the open index. @default 8 */
  openShards?: number;
}

/** Everything that marks a run as open: removed by every write that ends it or starts a waiter. */
const OPEN_STATE = `${ATTR.openPk}, ${ATTR.openAt}, waitToken, waiting`;

export function createRunStore({
  client,
  tableName,
  retentionMs,
  openShards = 8,
}: RunStoreOptions): RunStore {
  const key = (taskID: string, runID: string) =>
    marshall({ [ATTR.pk]: taskPk(taskID), [ATTR.sk]: runSk(runID) });
  const ttl = (now: number) => Math.floor((now + retentionMs) / 1000);
  const logEntry = (now: number, message: string): RunLogEntry[] => [
    { time: new Date(now).toISOString(), message },
  ];

  const inspect = async (taskID: string, runID: string) => {
    const out = await client.send(
      new GetItemCommand({ TableName: tableName, Key: key(taskID, runID), ConsistentRead: true }),
    );
    return out.Item ? toState(out.Item) : undefined;
  };

  /** A conditional UpdateItem that returns the new run, or undefined when the condition failed. */
  const update = async (
    taskID: string,
    runID: string,
    input: {
      expression: string;
      condition: string;
      names: Record<string, string>;
      values: Record<string, unknown>;
    },
  ): Promise<Run | undefined> => {
    const out = await whenConditionHolds(() =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key(taskID, runID),
          UpdateExpression: input.expression,
          ConditionExpression: input.condition,
          ExpressionAttributeNames: input.names,
          ExpressionAttributeValues: marshall(input.values, { removeUndefinedValues: true }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out?.Attributes ? toRun(out.Attributes) : undefined;
  };

  return {
    async create(run, openAt) {
      const now = Date.now();
      const put = await whenConditionHolds(() =>
        client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall(
              {
                ...run,
                [ATTR.pk]: taskPk(run.taskID),
                [ATTR.sk]: runSk(run.id),
                [ATTR.ttl]: ttl(now),
                [ATTR.openPk]: openShard(run.taskID, openShards),
                [ATTR.openAt]: openAt,
              },
              { removeUndefinedValues: true },
            ),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': ATTR.pk },
          }),
        ),
      );
      return put !== undefined;
    },

    get: async (taskID, runID) => (await inspect(taskID, runID))?.run,

    inspect,

    async claim({ taskID, runID, token, now, claimTtlMs, seed, stallAt }) {
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
              (stallAt !== undefined ? ', #openAt = :stallAt' : '') +
              ' REMOVE waitToken, waiting ADD claims :one',
            ConditionExpression:
              'attribute_not_exists(#pk) OR #status = :scheduled OR (#status = :started AND claimExpiresAt < :now)',
            ExpressionAttributeNames: {
              '#pk': ATTR.pk,
              '#status': 'status',
              '#log': 'log',
              '#ttl': ATTR.ttl,
              ...(stallAt !== undefined ? { '#openAt': ATTR.openAt } : {}),
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
                ':stallAt': stallAt,
              },
              { removeUndefinedValues: true },
            ),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      if (!out?.Attributes) return { claimed: false, state: await inspect(taskID, runID) };
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
      return update(taskID, runID, {
        // Appended: a waiting run's log already says why it waited.
        expression:
          'SET #status = :status, finishedAt = :finishedAt, #log = list_append(if_not_exists(#log, :emptyLog), :log), #ttl = :ttl' +
          (result.error ? ', #error = :error' : '') +
          ` REMOVE claimToken, claimExpiresAt, ${OPEN_STATE}`,
        // Cancel wins: only a canceled result may overwrite a run someone asked to cancel.
        condition:
          result.status === 'canceled'
            ? 'claimToken = :token AND #status = :started'
            : 'claimToken = :token AND #status = :started AND attribute_not_exists(cancelRequested)',
        names: {
          '#status': 'status',
          '#log': 'log',
          '#ttl': ATTR.ttl,
          ...(result.error ? { '#error': 'error' } : {}),
        },
        values: {
          ':status': result.status,
          ':finishedAt': result.finishedAt,
          ':log': result.log,
          ':emptyLog': [],
          ':ttl': ttl(now),
          ':token': token,
          ':started': 'started',
          ...(result.error ? { ':error': result.error } : {}),
        },
      });
    },

    async requestCancel(taskID, runID, now) {
      const at = new Date(now).toISOString();
      const end = (condition: string, values: Record<string, unknown>, message?: string) =>
        update(taskID, runID, {
          expression:
            'SET #status = :canceled, finishedAt = :at' +
            (message ? ', #log = list_append(if_not_exists(#log, :emptyLog), :entry)' : '') +
            ` REMOVE claimToken, claimExpiresAt, ${OPEN_STATE}`,
          condition,
          names: { '#status': 'status', ...(message ? { '#log': 'log' } : {}) },
          values: {
            ':canceled': 'canceled',
            ':at': at,
            ...values,
            ...(message ? { ':emptyLog': [], ':entry': logEntry(now, message) } : {}),
          },
        });
      if (await end('#status = :scheduled', { ':scheduled': 'scheduled' })) return 'canceled';
      // No executor holds a started run whose claim expired: nobody would see a request, so end it here.
      const stranded = await end(
        '#status = :started AND claimExpiresAt < :now',
        { ':started': 'started', ':now': now },
        'run canceled: no executor held it any more (its claim had expired)',
      );
      if (stranded) return 'canceled';
      const running = await update(taskID, runID, {
        expression: 'SET cancelRequested = :yes',
        condition: '#status = :started',
        names: { '#status': 'status' },
        values: { ':yes': true, ':started': 'started' },
      });
      if (running) return 'requested';
      return (await inspect(taskID, runID)) ? 'final' : 'missing';
    },

    async failUnfinished(taskID, runID, seed, at, reason) {
      const now = Date.now();
      return update(taskID, runID, {
        expression:
          'SET #status = :failed, finishedAt = :at, #error = :reason, id = :id, taskID = :taskID, ' +
          'kind = if_not_exists(kind, :kind), scheduledFor = if_not_exists(scheduledFor, :scheduledFor), ' +
          'attempt = if_not_exists(attempt, :attempt), #ttl = :ttl, ' +
          `#log = list_append(if_not_exists(#log, :emptyLog), :entry) REMOVE claimToken, claimExpiresAt, ${OPEN_STATE}`,
        condition: 'attribute_not_exists(#pk) OR #status IN (:scheduled, :started)',
        names: {
          '#pk': ATTR.pk,
          '#status': 'status',
          '#error': 'error',
          '#log': 'log',
          '#ttl': ATTR.ttl,
        },
        values: {
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
        },
      });
    },

    async wait({ taskID, runID, seed, revision, now, openAt, waitToken, expectedToken, logLine }) {
      const waiting = await update(taskID, runID, {
        expression:
          'SET #status = :scheduled, id = :id, taskID = :taskID, kind = if_not_exists(kind, :kind), ' +
          'scheduledFor = if_not_exists(scheduledFor, :scheduledFor), attempt = if_not_exists(attempt, :attempt), ' +
          '#openPk = :openPk, #openAt = :openAt, waitToken = :waitToken, waiting = :yes, #ttl = :ttl, ' +
          (logLine
            ? '#log = list_append(if_not_exists(#log, :emptyLog), :entry)'
            : '#log = if_not_exists(#log, :emptyLog)') +
          (seed.runAt ? ', runAt = if_not_exists(runAt, :runAt)' : '') +
          (revision !== undefined ? ', revision = if_not_exists(revision, :revision)' : ''),
        // One message carries a waiting run: a copy may take over only once the carrier is overdue.
        condition:
          '(attribute_not_exists(#pk) OR #status = :scheduled) AND (attribute_not_exists(waitToken)' +
          (expectedToken ? ' OR waitToken = :expected' : '') +
          ' OR #openAt < :now)',
        names: {
          '#pk': ATTR.pk,
          '#status': 'status',
          '#log': 'log',
          '#ttl': ATTR.ttl,
          '#openPk': ATTR.openPk,
          '#openAt': ATTR.openAt,
        },
        values: {
          ':scheduled': 'scheduled',
          ':id': runID,
          ':taskID': taskID,
          ':kind': seed.kind,
          ':scheduledFor': seed.scheduledFor,
          ':attempt': seed.attempt,
          ':runAt': seed.runAt,
          ':revision': revision,
          ':openPk': openShard(taskID, openShards),
          ':openAt': openAt,
          ':waitToken': waitToken,
          ':expected': expectedToken,
          ':yes': true,
          ':now': now,
          ':ttl': ttl(now),
          ':emptyLog': [],
          ':entry': logLine ? logEntry(now, logLine) : undefined,
        },
      });
      return waiting ? { waiting: true } : { waiting: false, state: await inspect(taskID, runID) };
    },

    async requeueStalled(taskID, runID, token, { now, openAt, logLine }) {
      return update(taskID, runID, {
        // No waitToken: the first message of this run to arrive carries it from now on.
        expression:
          'SET #status = :scheduled, #openPk = :openPk, #openAt = :openAt, waiting = :yes, ' +
          '#log = list_append(if_not_exists(#log, :emptyLog), :entry) REMOVE claimToken, claimExpiresAt, waitToken',
        condition: '#status = :started AND claimToken = :token',
        names: { '#status': 'status', '#log': 'log', '#openPk': ATTR.openPk, '#openAt': ATTR.openAt },
        values: {
          ':scheduled': 'scheduled',
          ':started': 'started',
          ':token': token,
          ':openPk': openShard(taskID, openShards),
          ':openAt': openAt,
          ':yes': true,
          ':emptyLog': [],
          ':entry': logEntry(now, logLine),
        },
      });
    },

    async abandon(taskID, runID, now, reason) {
      return update(taskID, runID, {
        expression:
          'SET #status = :canceled, finishedAt = :at, #log = list_append(if_not_exists(#log, :emptyLog), :entry) ' +
          `REMOVE claimToken, claimExpiresAt, ${OPEN_STATE}`,
        condition:
          'attribute_exists(#pk) AND (#status = :scheduled OR (#status = :started AND claimExpiresAt < :now))',
        names: { '#pk': ATTR.pk, '#status': 'status', '#log': 'log' },
        values: {
          ':canceled': 'canceled',
          ':scheduled': 'scheduled',
          ':started': 'started',
          ':at': new Date(now).toISOString(),
          ':now': now,
          ':emptyLog': [],
          ':entry': logEntry(now, reason),
        },
      });
    },

    async queryOpen(shard, untilMs, cursor) {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEX.open,
          KeyConditionExpression: '#pk = :shard AND #at <= :until',
          ExpressionAttributeNames: { '#pk': ATTR.openPk, '#at': ATTR.openAt },
          ExpressionAttributeValues: marshall({ ':shard': shard, ':until': untilMs }),
          ExclusiveStartKey: cursor ? marshall(cursor) : undefined,
        }),
      );
      return {
        runs: (out.Items ?? []).map((item) => {
          const raw = unmarshall(item);
          return {
            taskID: String(raw.taskID),
            runID: String(raw.id),
            status: raw.status as RunStatus,
            kind: raw.kind as Run['kind'],
            scheduledFor: String(raw.scheduledFor),
            attempt: Number(raw.attempt ?? 1),
            revision: typeof raw.revision === 'number' ? raw.revision : undefined,
            openAt: Number(raw[ATTR.openAt]),
          };
        }),
        cursor: out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined,
      };
    },

    async postponeOpen(taskID, runID, seen, openAt) {
      const out = await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(taskID, runID),
            UpdateExpression: 'SET #openAt = :openAt REMOVE waitToken',
            ConditionExpression: '#openAt = :seen AND attribute_exists(#openPk)',
            ExpressionAttributeNames: { '#openAt': ATTR.openAt, '#openPk': ATTR.openPk },
            ExpressionAttributeValues: marshall({ ':openAt': openAt, ':seen': seen }),
          }),
        ),
      );
      return out !== undefined;
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

/** Claim and waiting bookkeeping stays inside the store; callers see the run. */
const ENGINE_ATTRS = ['claimToken', 'claimExpiresAt', 'waitToken', 'waiting'];

function toRun(item: Record<string, AttributeValue>): Run {
  const run = fromItem<Run>(item, ENGINE_ATTRS);
  run.log ??= [];
  return run;
}

function toState(item: Record<string, AttributeValue>): RunState {
  const number = (attr: string) => (item[attr]?.N !== undefined ? Number(item[attr]?.N) : undefined);
  return {
    run: toRun(item),
    claimExpiresAt: number('claimExpiresAt'),
    openAt: number(ATTR.openAt),
    waiting: item.waiting?.BOOL === true,
  };
}
