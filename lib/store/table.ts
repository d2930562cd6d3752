import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { Table } from 'dynamodb-toolbox/table';
import { minimalParentheses } from './expression';
import { ATTR, INDEX } from './keys';

/**
 * The table as dynamodb-toolbox sees it: the keys and indexes of `tableDefinition`.
 * Entities (one per item type) are declared against it and compute their keys from
 * their own attributes; their commands are built with `.params()` and sent by
 * `tableSender`, so every call goes through Rota's one low-level client (the IAM
 * recorder and the bench's counters see the wire format, as before).
 */
export function rotaTable(tableName: string) {
  return new Table({
    name: tableName,
    partitionKey: { name: ATTR.pk, type: 'string' },
    sortKey: { name: ATTR.sk, type: 'string' },
    indexes: {
      [INDEX.byOrgType]: {
        type: 'global',
        partitionKey: { name: ATTR.orgTypePk, type: 'string' },
        sortKey: { name: ATTR.orgTypeSk, type: 'string' },
      },
      [INDEX.due]: {
        type: 'global',
        partitionKey: { name: ATTR.duePk, type: 'string' },
        sortKey: { name: ATTR.dueAt, type: 'number' },
      },
      [INDEX.open]: {
        type: 'global',
        partitionKey: { name: ATTR.openPk, type: 'string' },
        sortKey: { name: ATTR.openAt, type: 'number' },
      },
    },
  });
}

export type RotaTable = ReturnType<typeof rotaTable>;

/** A DocumentClient-style command input, as dynamodb-toolbox's `.params()` returns it. */
type Params = Record<string, unknown>;
type Native = Record<string, unknown>;

const MARSHALLED = ['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey'] as const;
const CONDITIONS = ['ConditionExpression', 'KeyConditionExpression', 'FilterExpression'] as const;

/** The same input in the low-level client's attribute-value form. */
function toWire(params: Params): never {
  // ToolboxItem is the parsed item the builder keeps for itself; it is not part of the request.
  const { ToolboxItem: _parsed, ...input } = params;
  for (const field of MARSHALLED) {
    const value = input[field];
    if (value !== undefined) input[field] = marshall(value as Native, { removeUndefinedValues: true });
  }
  for (const field of CONDITIONS) {
    const value = input[field];
    if (typeof value === 'string') input[field] = rewritten(value);
  }
  return input as never;
}

/**
 * The toolbox's expressions hold placeholders, never values, so there are only as many
 * as there are write shapes: each is rewritten once, not on every send (the hot writes
 * send the same few conditions on every run).
 */
const REWRITTEN = new Map<string, string>();
const KEPT_EXPRESSIONS = 1_000;

function rewritten(expression: string): string {
  let out = REWRITTEN.get(expression);
  if (out === undefined) {
    out = minimalParentheses(expression);
    // A bound all the same: nothing grows without limit in a long-lived process.
    if (REWRITTEN.size >= KEPT_EXPRESSIONS) REWRITTEN.clear();
    REWRITTEN.set(expression, out);
  }
  return out;
}

const native = (item: Record<string, unknown> | undefined) =>
  item ? (unmarshall(item as never) as Native) : undefined;

/**
 * Sends built commands through the low-level client and hands back native items,
 * for the entity's formatter to check. A failed condition throws as the SDK throws
 * it; stores turn it into a return value (`whenConditionHolds`).
 */
export function tableSender(client: DynamoDBClient) {
  /** A write whose output no caller reads (a returned item, if asked for, stays unread). */
  const writeWith =
    (Command: new (input: never) => PutItemCommand | UpdateItemCommand | DeleteItemCommand) =>
    async (params: Params): Promise<void> => {
      await client.send(new Command(toWire(params)) as never);
    };
  return {
    async get(params: Params): Promise<Native | undefined> {
      return native((await client.send(new GetItemCommand(toWire(params)))).Item);
    },
    put: writeWith(PutItemCommand),
    /** The item after the update when the params ask for `ALL_NEW`. */
    async update(params: Params): Promise<Native | undefined> {
      return native((await client.send(new UpdateItemCommand(toWire(params)))).Attributes);
    },
    write: writeWith(UpdateItemCommand),
    delete: writeWith(DeleteItemCommand),
    async query(params: Params): Promise<{ items: Native[]; cursor?: Native | undefined }> {
      const out = await client.send(new QueryCommand(toWire(params)));
      return {
        items: (out.Items ?? []).map((item) => unmarshall(item) as Native),
        cursor: native(out.LastEvaluatedKey),
      };
    },
  };
}

export type TableSender = ReturnType<typeof tableSender>;
