import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

// The floor of a function that reads the table (scripts/bundle-floor.ts): one GetItem
// with the DynamoDB client alone, no store, no validation, no logger.
const client = new DynamoDBClient({});

export const handler = async (event: { id: string }) => {
  const out = await client.send(
    new GetItemCommand({
      TableName: process.env.ROTA_TABLE_NAME,
      Key: { pk: { S: event.id }, sk: { S: 'TASK' } },
    }),
  );
  return out.Item;
};
