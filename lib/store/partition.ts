import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  QueryCommand as WireQueryCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { ATTR } from './keys';
import { rotaTable } from './table';

/**
 * Deletes every item of one partition, whatever its entity: a task's runs, leases,
 * waiters and the items its system keeps there. Only keys are read (a projection of
 * the table's keys), so no entity formats them; the deletes are batched 25 at a time.
 */
export async function deletePartition(
  client: DynamoDBClient,
  tableName: string,
  pk: string,
): Promise<number> {
  const query = rotaTable(tableName).build(QueryCommand).query({ partition: pk }).params();
  const names = { ...query.ExpressionAttributeNames, '#key_pk': ATTR.pk, '#key_sk': ATTR.sk };
  let deleted = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new WireQueryCommand({
        ...query,
        ExpressionAttributeValues: marshall(query.ExpressionAttributeValues ?? {}),
        ExpressionAttributeNames: names,
        ProjectionExpression: '#key_pk, #key_sk',
        ExclusiveStartKey: startKey,
      }),
    );
    const keys = page.Items ?? [];
    for (let i = 0; i < keys.length; i += 25)
      deleted += await deleteKeys(client, tableName, keys.slice(i, i + 25));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return deleted;
}

/** One batch; unprocessed items come back under load and are retried with a short backoff. */
async function deleteKeys(
  client: DynamoDBClient,
  tableName: string,
  keys: Record<string, AttributeValue>[],
): Promise<number> {
  let deleted = 0;
  let requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
  for (let attempt = 0; requests.length > 0 && attempt < 8; attempt++) {
    const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
    const left = out.UnprocessedItems?.[tableName] ?? [];
    deleted += requests.length - left.length;
    requests = left as typeof requests;
    if (requests.length) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
  }
  return deleted;
}
