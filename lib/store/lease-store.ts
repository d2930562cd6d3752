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
import { ATTR, LEASE_PREFIX, leaseSk, PARTITION, taskPk } from './keys';

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

/**
 * Concurrency leases: slot items `LEASE#0000…LEASE#<limit-1>` under the task's
 * partition. A slot is taken with a conditional put that succeeds only if the slot
 * is free or its holder's lease expired, so at most `limit` holders exist at any
 * instant without transactions. Releasing is a delete conditional on the holder.
 */
export interface LeaseStore {
  /** Takes a free slot, or returns undefined when all `limit` slots are held. */
  acquire(
    taskID: string,
    limit: number,
    holder: { runID: string; token: string },
    ttlMs: number,
    now: number,
  ): Promise<Lease | undefined>;
  extend(lease: Lease, expiresAt: number): Promise<boolean>;
  release(lease: Lease): Promise<void>;
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

  return {
    async acquire(taskID, limit, holder, ttlMs, now) {
      // One consistent read shows which slots look free, so we rarely try a held slot.
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
          ExpressionAttributeValues: marshall({ ':pk': taskPk(taskID), ':prefix': LEASE_PREFIX }),
          ConsistentRead: true,
        }),
      );
      const held = new Set<number>();
      for (const item of out.Items ?? []) {
        const lease = unmarshall(item) as { slot: number; expiresAtMs: number };
        if (lease.expiresAtMs >= now) held.add(lease.slot);
      }
      const candidates = shuffle(
        Array.from({ length: limit }, (_, slot) => slot).filter((slot) => !held.has(slot)),
      );
      for (const slot of candidates.slice(0, 3)) {
        // Another executor may take this slot between our read and our write: then try the next.
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
        if (taken) return { taskID, slot, token: holder.token, runID: holder.runID };
      }
      return undefined;
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
      await whenConditionHolds(() =>
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
    },
  };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
