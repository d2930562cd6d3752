import { randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DELETE, PUT, QUERY, type TableUse, UPDATE } from './access';
import { whenConditionHolds } from './items';
import { ATTR, LEASE_PREFIX, leaseSk, PARTITION, taskPk, WAIT_PREFIX, waitSk } from './keys';

/** acquire (Query + conditional put), extend, release: the executor (see `TableUse`). */
export const LEASE_STORE = {
  name: 'lease store',
  actions: [QUERY, PUT, UPDATE, DELETE],
  keyPrefixes: [PARTITION.task],
} as const satisfies TableUse;

export interface Lease {
  taskID: string;
  slot: number;
  token: string;
  runID: string;
}

/** A stored slot: its holder and until when the holder counts as alive. */
export interface Slot {
  slot: number;
  runID: string;
  token: string;
  expiresAtMs: number;
}

/**
 * Concurrency leases: slot items `LEASE#0000…LEASE#<limit-1>` under the task's
 * partition. A slot is taken with a conditional put that succeeds only if the slot
 * is free or its holder's lease expired, so at most `limit` holders exist at any
 * instant without transactions. Releasing is a delete conditional on the holder.
 *
 * Waiters are marker items `WAIT#<runID>` in the same partition. Run IDs sort by
 * scheduledFor, so one consistent Query reads the oldest waiters first.
 */
export interface LeaseStore {
  /** Every slot item of the task, live or expired (one consistent Query). */
  slots(taskID: string): Promise<Slot[]>;
  /** Takes `slot` if it is free or expired; undefined when someone else holds it. */
  take(
    taskID: string,
    slot: number,
    holder: { runID: string; token: string },
    ttlMs: number,
    now: number,
  ): Promise<Lease | undefined>;
  /** Deletes an expired slot, if `token` still holds it. */
  clearExpired(taskID: string, slot: number, token: string, now: number): Promise<boolean>;
  extend(lease: Lease, expiresAt: number): Promise<boolean>;
  /** Frees the slot; false when it was no longer ours (it expired and someone took it). */
  release(lease: Lease): Promise<boolean>;
  addWaiter(taskID: string, runID: string): Promise<void>;
  /**
   * Deletes a run's marker; with `marker`, only that one (a marker read earlier may have
   * been replaced since, by a run that went back to waiting, and must then stay).
   */
  removeWaiter(taskID: string, runID: string, marker?: string): Promise<void>;
  /**
   * Marks a waiting run as just woken; false when someone woke it within `quietMs`, so
   * a run is woken once per quiet period however many executors notice its turn.
   */
  markWoken(taskID: string, runID: string, now: number, quietMs: number): Promise<boolean>;
  /** Waiting runs, oldest scheduledFor first, after `afterRunID` when given. */
  waiters(
    taskID: string,
    options: { limit: number; afterRunID?: string | undefined },
  ): Promise<{ runID: string; marker: string }[]>;
}

export function createLeaseStore({
  client,
  tableName,
}: {
  client: DynamoDBClient;
  tableName: string;
}): LeaseStore {
  const key = (taskID: string, slot: number) =>
    marshall({ [ATTR.pk]: taskPk(taskID), [ATTR.sk]: leaseSk(slot) });
  const waiterKey = (taskID: string, runID: string) =>
    marshall({ [ATTR.pk]: taskPk(taskID), [ATTR.sk]: waitSk(runID) });

  return {
    async slots(taskID) {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
          ExpressionAttributeValues: marshall({ ':pk': taskPk(taskID), ':prefix': LEASE_PREFIX }),
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((item) => {
        const raw = unmarshall(item);
        return {
          slot: Number(raw.slot),
          runID: String(raw.runID),
          token: String(raw.token),
          expiresAtMs: Number(raw.expiresAtMs),
        };
      });
    },

    async take(taskID, slot, holder, ttlMs, now) {
      // Another executor may take this slot between a read and this write: then it fails.
      const taken = await whenConditionHolds(() =>
        client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall({
              ...unmarshall(key(taskID, slot)),
              slot,
              runID: holder.runID,
              token: holder.token,
              expiresAtMs: now + ttlMs,
            }),
            ConditionExpression: 'attribute_not_exists(#pk) OR expiresAtMs < :now',
            ExpressionAttributeNames: { '#pk': ATTR.pk },
            ExpressionAttributeValues: marshall({ ':now': now }),
          }),
        ),
      );
      return taken ? { taskID, slot, token: holder.token, runID: holder.runID } : undefined;
    },

    async clearExpired(taskID, slot, token, now) {
      const out = await whenConditionHolds(() =>
        client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: key(taskID, slot),
            ConditionExpression: '#token = :token AND expiresAtMs < :now',
            ExpressionAttributeNames: { '#token': 'token' },
            ExpressionAttributeValues: marshall({ ':token': token, ':now': now }),
          }),
        ),
      );
      return out !== undefined;
    },

    async extend(lease, expiresAt) {
      return (
        (await whenConditionHolds(() =>
          client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: key(lease.taskID, lease.slot),
              UpdateExpression: 'SET expiresAtMs = :expires',
              ConditionExpression: '#token = :token',
              ExpressionAttributeNames: { '#token': 'token' },
              ExpressionAttributeValues: marshall({ ':expires': expiresAt, ':token': lease.token }),
            }),
          ),
        )) !== undefined
      );
    },

    async release(lease) {
      // A failed condition means the lease expired and another holder took the slot:
      // it is no longer ours to free.
      const out = await whenConditionHolds(() =>
        client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: key(lease.taskID, lease.slot),
            ConditionExpression: '#token = :token',
            ExpressionAttributeNames: { '#token': 'token' },
            ExpressionAttributeValues: marshall({ ':token': lease.token }),
          }),
        ),
      );
      return out !== undefined;
    },

    async addWaiter(taskID, runID) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { ...waiterKey(taskID, runID), ...marshall({ runID, marker: randomUUID() }) },
        }),
      );
    },

    async removeWaiter(taskID, runID, marker) {
      await whenConditionHolds(() =>
        client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: waiterKey(taskID, runID),
            ...(marker
              ? {
                  ConditionExpression: '#marker = :marker',
                  ExpressionAttributeNames: { '#marker': 'marker' },
                  ExpressionAttributeValues: marshall({ ':marker': marker }),
                }
              : {}),
          }),
        ),
      );
    },

    async markWoken(taskID, runID, now, quietMs) {
      const out = await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: waiterKey(taskID, runID),
            UpdateExpression: 'SET wokenAt = :now',
            ConditionExpression:
              'attribute_exists(#pk) AND (attribute_not_exists(wokenAt) OR wokenAt < :quietSince)',
            ExpressionAttributeNames: { '#pk': ATTR.pk },
            ExpressionAttributeValues: marshall({ ':now': now, ':quietSince': now - quietMs }),
          }),
        ),
      );
      return out !== undefined;
    },

    async waiters(taskID, { limit, afterRunID }) {
      const lower = afterRunID === undefined ? WAIT_PREFIX : waitSk(afterRunID);
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lower AND :upper',
          ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
          ExpressionAttributeValues: marshall({
            ':pk': taskPk(taskID),
            ':lower': lower,
            ':upper': `${WAIT_PREFIX}~`,
          }),
          ConsistentRead: true,
          // BETWEEN is inclusive: the cursor itself may come back, and is dropped.
          Limit: limit + 1,
        }),
      );
      return (out.Items ?? [])
        .map((item) => {
          const raw = unmarshall(item);
          return { runID: String(raw.runID), marker: String(raw.marker) };
        })
        .filter(({ runID }) => runID !== afterRunID)
        .slice(0, limit);
    },
  };
}
