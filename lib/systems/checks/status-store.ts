import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { GET, PUT, QUERY, type TableUse, UPDATE } from '../../store/access';
import { fromItem } from '../../store/items';
import {
  ATTR,
  CHECK_STATE_SK,
  INDEX,
  orgStatusesPk,
  PARTITION,
  STATUS_PREFIX,
  statusSk,
  taskPk,
} from '../../store/keys';
import type { CheckStatus, Level } from './model';

/** What each part of the status store does to the table (see `TableUse`). */
export const STATUS_STORE = {
  /** write, getState, setState: the check runner, in the check's partition. */
  writes: { name: 'status store: writes', actions: [PUT, GET, UPDATE], keyPrefixes: [PARTITION.task] },
  /** list: the checks API, in the check's partition. */
  reads: { name: 'status store: list', actions: [QUERY], keyPrefixes: [PARTITION.task] },
  /** writtenSince: the notification-rule runner reads an org's statuses through byOrgType. */
  orgReads: { name: 'status store: writtenSince', queries: [INDEX.byOrgType] },
} as const satisfies Record<string, TableUse>;

export interface CheckState {
  lastLevel?: Level | undefined;
  lastSuccessAt?: string | undefined;
}

export interface StatusQuery {
  limit: number;
  afterTime?: string | undefined;
  beforeTime?: string | undefined;
}

/**
 * Check statuses live in the check's partition (deleting the check deletes them)
 * and in the org's `~status` partition of the byOrgType index, ordered by when they
 * were written, which is how notification rules read them.
 */
export function createStatusStore({
  client,
  tableName,
  retentionMs,
}: {
  client: DynamoDBClient;
  tableName: string;
  retentionMs: number;
}) {
  const stateKey = (checkID: string) => marshall({ [ATTR.pk]: taskPk(checkID), [ATTR.sk]: CHECK_STATE_SK });
  const toStatus = (item: Record<string, AttributeValue>) => fromItem<CheckStatus>(item);

  return {
    async write(orgID: string, status: CheckStatus): Promise<void> {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: marshall(
            {
              ...status,
              [ATTR.pk]: taskPk(status.checkID),
              [ATTR.sk]: statusSk(status.time, status.runID),
              [ATTR.orgTypePk]: orgStatusesPk(orgID),
              [ATTR.orgTypeSk]: `${status.recordedAt}#${status.checkID}#${status.runID}`,
              [ATTR.ttl]: Math.floor((Date.now() + retentionMs) / 1000),
            },
            { removeUndefinedValues: true },
          ),
        }),
      );
    },

    /** Newest first, optionally within [afterTime, beforeTime]. */
    async list(checkID: string, { limit, afterTime, beforeTime }: StatusQuery): Promise<CheckStatus[]> {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lower AND :upper',
          ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
          ExpressionAttributeValues: marshall({
            ':pk': taskPk(checkID),
            ':lower': `${STATUS_PREFIX}${afterTime ?? ''}`,
            ':upper': `${STATUS_PREFIX}${beforeTime ?? ''}~`,
          }),
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map(toStatus);
    },

    /** Statuses of every check in the org written after `since` (oldest first), at most `max`. */
    async writtenSince(orgID: string, since: string, max: number): Promise<CheckStatus[]> {
      const statuses: CheckStatus[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: INDEX.byOrgType,
            // Keys are `<recordedAt>#<checkID>#<runID>`; `~` sorts after every id character,
            // so a status written exactly at `since` is excluded, as the contract says.
            KeyConditionExpression: '#pk = :pk AND #sk > :since',
            ExpressionAttributeNames: { '#pk': ATTR.orgTypePk, '#sk': ATTR.orgTypeSk },
            ExpressionAttributeValues: marshall({ ':pk': orgStatusesPk(orgID), ':since': `${since}#~` }),
            ExclusiveStartKey: startKey,
            Limit: Math.min(max, 500),
          }),
        );
        statuses.push(...(out.Items ?? []).map(toStatus));
        startKey = out.LastEvaluatedKey;
      } while (startKey && statuses.length < max);
      return statuses.slice(0, max);
    },

    async getState(checkID: string): Promise<CheckState> {
      const out = await client.send(
        new GetItemCommand({ TableName: tableName, Key: stateKey(checkID), ConsistentRead: true }),
      );
      return out.Item ? (unmarshall(out.Item) as CheckState) : {};
    },

    async setState(checkID: string, state: CheckState): Promise<void> {
      const set = ['lastLevel = :level', ...(state.lastSuccessAt ? ['lastSuccessAt = :success'] : [])];
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: stateKey(checkID),
          UpdateExpression: `SET ${set.join(', ')}`,
          ExpressionAttributeValues: marshall(
            { ':level': state.lastLevel, ':success': state.lastSuccessAt },
            { removeUndefinedValues: true },
          ),
        }),
      );
    },
  };
}

export type StatusStore = ReturnType<typeof createStatusStore>;
