import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { INDEX } from './keys';

/**
 * How many items the sparse `due` index holds: one per active task, runs and inactive
 * tasks never appear in it. DescribeTable reads it from DynamoDB's own statistics, which
 * it refreshes about every six hours, at no read capacity; a count kept on every create
 * and delete would cost a write each and a hot item (docs/decisions/0014).
 */
export function createDueIndexCount({ client, tableName }: { client: DynamoDBClient; tableName: string }) {
  return async (): Promise<number | undefined> => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table?.GlobalSecondaryIndexes?.find((index) => index.IndexName === INDEX.due)?.ItemCount;
  };
}
