import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type TableUse, UPDATE } from '../store/access';
import { whenConditionHolds } from '../store/items';
import { orgQuotaKey, PARTITION } from '../store/keys';

/** acquire, release: whoever creates or deletes tasks (see `TableUse`). */
export const ORG_QUOTA_STORE = {
  name: 'org quota',
  actions: [UPDATE],
  keyPrefixes: [PARTITION.org],
} as const satisfies TableUse;

/** Counts an org's tasks over all systems and refuses the one past the limit. */
export interface OrgQuota {
  readonly limit: number;
  /** Takes a slot; false when the org is at its limit. */
  acquire(orgID: string): Promise<boolean>;
  /** Gives a slot back (a task was deleted, or its create failed). */
  release(orgID: string): Promise<void>;
}

/**
 * One counter item per org, moved by conditional `ADD`s: O(1) per create, where
 * counting the org's tasks would read every one of them. Without transactions the
 * counter and the task are two writes; the slot is taken first and given back when the
 * create fails, so a crash in between can only leave the count too high (stricter),
 * never let an org past its limit.
 */
export function createOrgQuota({
  client,
  tableName,
  limit,
}: {
  client: DynamoDBClient;
  tableName: string;
  limit: number;
}): OrgQuota {
  return {
    limit,
    async acquire(orgID) {
      return (
        (await whenConditionHolds(() =>
          client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: marshall(orgQuotaKey(orgID)),
              UpdateExpression: 'ADD #tasks :one SET #orgID = :org',
              ConditionExpression: 'attribute_not_exists(#tasks) OR #tasks < :limit',
              ExpressionAttributeNames: { '#tasks': 'tasks', '#orgID': 'orgID' },
              ExpressionAttributeValues: marshall({ ':one': 1, ':limit': limit, ':org': orgID }),
            }),
          ),
        )) !== undefined
      );
    },
    async release(orgID) {
      // A failed condition means the count is already zero (or was never taken): nothing to give back.
      await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: marshall(orgQuotaKey(orgID)),
            UpdateExpression: 'ADD #tasks :minusOne',
            ConditionExpression: '#tasks > :zero',
            ExpressionAttributeNames: { '#tasks': 'tasks' },
            ExpressionAttributeValues: marshall({ ':minusOne': -1, ':zero': 0 }),
          }),
        ),
      );
    },
  };
}
