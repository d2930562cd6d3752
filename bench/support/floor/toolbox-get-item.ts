import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Entity } from 'dynamodb-toolbox/entity';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import { GetItemCommand as EntityGet } from 'dynamodb-toolbox/entity/actions/get';
import { item } from 'dynamodb-toolbox/schema/item';
import { string } from 'dynamodb-toolbox/schema/string';
import { Table } from 'dynamodb-toolbox/table';

// The same GetItem through a dynamodb-toolbox Entity, as Rota's stores send it
// (lib/store/table.ts): the command built with `.params()`, sent by the low-level
// client, the item formatted back by the entity.
const client = new DynamoDBClient({});
const table = new Table({
  name: process.env.ROTA_TABLE_NAME ?? 'rota',
  partitionKey: { name: 'pk', type: 'string' },
  sortKey: { name: 'sk', type: 'string' },
});
const tasks = new Entity({
  name: 'task',
  table,
  schema: item({ id: string().key().savedAs('pk'), sk: string().key().default('TASK'), name: string() }),
  entityAttribute: false,
  timestamps: false,
});

export const handler = async (event: { id: string }) => {
  const params = tasks.build(EntityGet).key({ id: event.id }).params();
  const out = await client.send(new GetItemCommand(params));
  return out.Item ? tasks.build(EntityFormatter).format(unmarshall(out.Item)) : undefined;
};
