import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { GET, PUT, QUERY, type TableUse, UPDATE } from '../../store/access';
import { fromItem, whenConditionHolds } from '../../store/items';
import { ATTR, NOTIFY_PREFIX, notifySk, PARTITION, RULE_STATE_SK, taskPk } from '../../store/keys';

/** What each part of the notification log does to the table (see `TableUse`); it lives in the rule's partition. */
export const NOTIFICATION_LOG_STORE = {
  /** claim, settle, cursor, setCursor: the rule runner. */
  writes: { name: 'notification log: writes', actions: [PUT, UPDATE, GET], keyPrefixes: [PARTITION.task] },
  /** list: the rules API. */
  reads: { name: 'notification log: list', actions: [QUERY], keyPrefixes: [PARTITION.task] },
} as const satisfies Record<string, TableUse>;

import type { NotificationLogEntry } from './rule-model';

/**
 * The notification log and each rule's read cursor, both in the rule's partition.
 * A log entry's key is the rule plus the status it reports, which makes it the
 * dedup key: a retried or redelivered run never sends the same notification twice.
 */
export function createNotificationLogStore({
  client,
  tableName,
  retentionMs,
}: {
  client: DynamoDBClient;
  tableName: string;
  retentionMs: number;
}) {
  const entryKey = (
    e: Pick<NotificationLogEntry, 'ruleID' | 'statusTime' | 'checkID'> & { statusRunID: string },
  ) => ({
    [ATTR.pk]: taskPk(e.ruleID),
    [ATTR.sk]: notifySk(e.statusTime, e.checkID, e.statusRunID),
  });

  return {
    /** Claims the right to send; false when this status was already sent (or is being sent). */
    async claim(entry: NotificationLogEntry, statusRunID: string): Promise<boolean> {
      return (
        (await whenConditionHolds(() =>
          client.send(
            new PutItemCommand({
              TableName: tableName,
              Item: marshall(
                {
                  ...entry,
                  ...entryKey({ ...entry, statusRunID }),
                  [ATTR.ttl]: Math.floor((Date.now() + retentionMs) / 1000),
                },
                { removeUndefinedValues: true },
              ),
              // Only a failed send may be tried again.
              ConditionExpression: 'attribute_not_exists(#pk) OR outcome = :failed',
              ExpressionAttributeNames: { '#pk': ATTR.pk },
              ExpressionAttributeValues: marshall({ ':failed': 'failed' }),
            }),
          ),
        )) !== undefined
      );
    },

    async settle(
      entry: NotificationLogEntry,
      statusRunID: string,
      result: Pick<NotificationLogEntry, 'outcome' | 'httpStatus' | 'error'>,
    ) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: marshall(entryKey({ ...entry, statusRunID })),
          UpdateExpression: `SET outcome = :outcome${result.httpStatus !== undefined ? ', httpStatus = :status' : ''}${result.error ? ', #error = :error' : ''}`,
          ExpressionAttributeNames: result.error ? { '#error': 'error' } : undefined,
          ExpressionAttributeValues: marshall(
            { ':outcome': result.outcome, ':status': result.httpStatus, ':error': result.error },
            { removeUndefinedValues: true },
          ),
        }),
      );
    },

    /** Newest status first. */
    async list(ruleID: string, limit: number): Promise<NotificationLogEntry[]> {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
          ExpressionAttributeValues: marshall({ ':pk': taskPk(ruleID), ':prefix': NOTIFY_PREFIX }),
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map((item) => fromItem<NotificationLogEntry>(item));
    },

    async cursor(ruleID: string): Promise<string | undefined> {
      const out = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: marshall({ [ATTR.pk]: taskPk(ruleID), [ATTR.sk]: RULE_STATE_SK }),
          ConsistentRead: true,
        }),
      );
      return out.Item ? (unmarshall(out.Item).cursor as string) : undefined;
    },

    async setCursor(ruleID: string, cursor: string): Promise<void> {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: marshall({ [ATTR.pk]: taskPk(ruleID), [ATTR.sk]: RULE_STATE_SK, cursor }),
        }),
      );
    },
  };
}

export type NotificationLogStore = ReturnType<typeof createNotificationLogStore>;
