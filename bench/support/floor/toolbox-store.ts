import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { Entity } from 'dynamodb-toolbox/entity';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import { GetItemCommand as EntityGet } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand as EntityPut } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand as EntityUpdate } from 'dynamodb-toolbox/entity/actions/update';
import { $add, $remove, $set } from 'dynamodb-toolbox/entity/actions/update/symbols';
import { item } from 'dynamodb-toolbox/schema/item';
import { list } from 'dynamodb-toolbox/schema/list';
import { map } from 'dynamodb-toolbox/schema/map';
import { number } from 'dynamodb-toolbox/schema/number';
import { string } from 'dynamodb-toolbox/schema/string';
import { Table } from 'dynamodb-toolbox/table';
import { QueryCommand as TableQuery } from 'dynamodb-toolbox/table/actions/query';
import { prefix } from 'dynamodb-toolbox/transformers/prefix';

// A store as Rota's stores use dynamodb-toolbox (the actions and schema types of
// lib/store/*.ts): get, a conditional put, an update with $add/$set/$remove, a query,
// each built with `.params()` and sent by the low-level client.
const client = new DynamoDBClient({});
const table = new Table({
  name: process.env.ROTA_TABLE_NAME ?? 'rota',
  partitionKey: { name: 'pk', type: 'string' },
  sortKey: { name: 'sk', type: 'string' },
});
const tasks = new Entity({
  name: 'task',
  table,
  schema: item({
    id: string().key().savedAs('pk').transform(prefix('TASK')),
    sk: string().key().default('TASK'),
    name: string(),
    runs: number().default(0),
    labels: list(string()).optional(),
    options: map({ every: string().optional() }).optional(),
  }),
  entityAttribute: false,
  timestamps: false,
});

export const handler = async (event: { id: string; name: string }) => {
  await client.send(
    new PutItemCommand(
      tasks
        .build(EntityPut)
        .item({ id: event.id, sk: 'TASK', name: event.name })
        .options({ condition: { attr: 'id', exists: false } })
        .params(),
    ),
  );
  await client.send(
    new UpdateItemCommand(
      tasks
        .build(EntityUpdate)
        .item({ id: event.id, sk: 'TASK', runs: $add(1), labels: $remove(), options: $set({ every: '1h' }) })
        .params(),
    ),
  );
  const out = await client.send(new GetItemCommand(tasks.build(EntityGet).key({ id: event.id }).params()));
  const page = await client.send(
    new QueryCommand(table.build(TableQuery).entities(tasks).query({ partition: event.id }).params()),
  );
  const format = tasks.build(EntityFormatter);
  const items = [out.Item, ...(page.Items ?? [])].flatMap((i) => (i ? [format.format(unmarshall(i))] : []));
  return { items, cursor: marshall({ id: event.id }) };
};
