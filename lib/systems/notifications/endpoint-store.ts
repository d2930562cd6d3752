import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DELETE, GET, PUT, type TableUse } from '../../store/access';
import { fromItem, whenConditionHolds } from '../../store/items';
import { ATTR, ENDPOINT_SK, endpointPk, INDEX, orgEndpointsPk, PARTITION } from '../../store/keys';

/** What each part of the endpoint store does to the table (see `TableUse`). */
export const ENDPOINT_STORE = {
  /** create, get, replace, delete, list: the endpoints API. */
  manage: {
    name: 'endpoint store: manage',
    actions: [PUT, GET, DELETE],
    keyPrefixes: [PARTITION.endpoint],
    queries: [INDEX.byOrgType],
  },
  /** get: rules name their endpoint; the rule runner sends to it. */
  reads: { name: 'endpoint store: get', actions: [GET], keyPrefixes: [PARTITION.endpoint] },
} as const satisfies Record<string, TableUse>;

import type { NotificationEndpoint } from './endpoint-model';

/** Notification endpoints are plain items, not tasks; listed per org through byOrgType. */
export function createEndpointStore({ client, tableName }: { client: DynamoDBClient; tableName: string }) {
  const key = (id: string) => marshall({ [ATTR.pk]: endpointPk(id), [ATTR.sk]: ENDPOINT_SK });
  const toEndpoint = (item: Record<string, AttributeValue>) => fromItem<NotificationEndpoint>(item);
  const item = (e: NotificationEndpoint) =>
    marshall(
      {
        ...e,
        [ATTR.pk]: endpointPk(e.id),
        [ATTR.sk]: ENDPOINT_SK,
        [ATTR.orgTypePk]: orgEndpointsPk(e.orgID),
        [ATTR.orgTypeSk]: e.id,
      },
      { removeUndefinedValues: true },
    );
  const conditional = async (send: () => Promise<unknown>) => (await whenConditionHolds(send)) !== undefined;

  return {
    create: (e: NotificationEndpoint) =>
      conditional(() =>
        client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: item(e),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': ATTR.pk },
          }),
        ),
      ),
    async get(id: string): Promise<NotificationEndpoint | undefined> {
      const out = await client.send(
        new GetItemCommand({ TableName: tableName, Key: key(id), ConsistentRead: true }),
      );
      return out.Item ? toEndpoint(out.Item) : undefined;
    },
    /** Replaces the whole endpoint if it is still at `expectedVersion`. */
    replace: (e: NotificationEndpoint, expectedVersion: number) =>
      conditional(() =>
        client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: item(e),
            ConditionExpression: '#version = :v',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: marshall({ ':v': expectedVersion }),
          }),
        ),
      ),
    remove: (id: string) =>
      conditional(() =>
        client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: key(id),
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': ATTR.pk },
          }),
        ),
      ),
    async list(orgID: string, after: string | undefined, limit: number) {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEX.byOrgType,
          KeyConditionExpression: after ? '#pk = :pk AND #sk > :after' : '#pk = :pk',
          ExpressionAttributeNames: after
            ? { '#pk': ATTR.orgTypePk, '#sk': ATTR.orgTypeSk }
            : { '#pk': ATTR.orgTypePk },
          ExpressionAttributeValues: marshall(
            after ? { ':pk': orgEndpointsPk(orgID), ':after': after } : { ':pk': orgEndpointsPk(orgID) },
          ),
          Limit: limit + 1,
        }),
      );
      const endpoints = (out.Items ?? []).map(toEndpoint);
      return { endpoints: endpoints.slice(0, limit), more: endpoints.length > limit };
    },
  };
}

export type EndpointStore = ReturnType<typeof createEndpointStore>;
