import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DELETE, GET, PUT, type TableUse, UPDATE } from '../store/access';
import { whenConditionHolds } from '../store/items';
import { ATTR, authKey, INDEX, orgAuthorizationsPk, PARTITION } from '../store/keys';

/** What each part of the token store does to the table (see `TableUse`); token items only. */
export const AUTH_STORE = {
  /** create, get, update, delete, list: the authorizations API. */
  manage: {
    name: 'token store: manage',
    actions: [PUT, GET, UPDATE, DELETE],
    keyPrefixes: [PARTITION.auth],
    queries: [INDEX.byOrgType],
  },
  /** get: the authorizer, one token item per uncached request. */
  reads: { name: 'token store: get', actions: [GET], keyPrefixes: [PARTITION.auth] },
} as const satisfies Record<string, TableUse>;

import type { Authorization, AuthorizationStatus } from './model';

export interface AuthorizationChange {
  status?: AuthorizationStatus | undefined;
  description?: string | undefined;
  updatedAt: string;
}

export interface AuthStore {
  /** Conditional create; false when the id is taken. */
  create(authorization: Authorization): Promise<boolean>;
  get(id: string): Promise<Authorization | undefined>;
  /** One org's tokens, oldest first, paged by id. */
  list(query: {
    orgID: string;
    after?: string | undefined;
    limit: number;
  }): Promise<{ authorizations: Authorization[]; more: boolean }>;
  /** Undefined when the token is gone. */
  update(id: string, change: AuthorizationChange): Promise<Authorization | undefined>;
  /** False when the token was not there. */
  delete(id: string): Promise<boolean>;
}

const FIELDS = [
  'id',
  'orgID',
  'status',
  'description',
  'permissions',
  'tokenHash',
  'createdAt',
  'updatedAt',
] as const;

export function createAuthStore({
  client,
  tableName,
}: {
  client: DynamoDBClient;
  tableName: string;
}): AuthStore {
  const toAuthorization = (item: Record<string, AttributeValue>): Authorization => {
    const raw = unmarshall(item);
    return Object.fromEntries(FIELDS.map((f) => [f, raw[f]])) as unknown as Authorization;
  };

  return {
    async create(authorization) {
      return (
        (await whenConditionHolds(() =>
          client.send(
            new PutItemCommand({
              TableName: tableName,
              Item: marshall({
                ...authorization,
                ...authKey(authorization.id),
                [ATTR.orgTypePk]: orgAuthorizationsPk(authorization.orgID),
                [ATTR.orgTypeSk]: authorization.id,
              }),
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': ATTR.pk },
            }),
          ),
        )) !== undefined
      );
    },

    async get(id) {
      // Consistent, so the authorizer never reads a stale token: locally a deactivated or
      // deleted token fails its next request. On AWS, API Gateway caches each authorizer
      // answer per Authorization value for authorizerCacheTtl (60 s by default), and a
      // cached answer keeps a revoked token working until it expires.
      const out = await client.send(
        new GetItemCommand({ TableName: tableName, Key: marshall(authKey(id)), ConsistentRead: true }),
      );
      return out.Item ? toAuthorization(out.Item) : undefined;
    },

    async list({ orgID, after, limit }) {
      const names: Record<string, string> = { '#pk': ATTR.orgTypePk };
      const values: Record<string, unknown> = { ':pk': orgAuthorizationsPk(orgID) };
      let keyCondition = '#pk = :pk';
      if (after !== undefined) {
        keyCondition += ' AND #sk > :after';
        names['#sk'] = ATTR.orgTypeSk;
        values[':after'] = after;
      }
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEX.byOrgType,
          KeyConditionExpression: keyCondition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values),
          // One extra item tells whether another page exists.
          Limit: limit + 1,
        }),
      );
      const items = (out.Items ?? []).map(toAuthorization);
      return { authorizations: items.slice(0, limit), more: items.length > limit };
    },

    async update(id, change) {
      const names: Record<string, string> = { '#pk': ATTR.pk, '#updatedAt': 'updatedAt' };
      const values: Record<string, unknown> = { ':updatedAt': change.updatedAt };
      const sets = ['#updatedAt = :updatedAt'];
      for (const field of ['status', 'description'] as const) {
        if (change[field] === undefined) continue;
        names[`#${field}`] = field;
        values[`:${field}`] = change[field];
        sets.push(`#${field} = :${field}`);
      }
      const out = await whenConditionHolds(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: marshall(authKey(id)),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: marshall(values),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      if (!out) return undefined;
      return out.Attributes ? toAuthorization(out.Attributes) : undefined;
    },

    async delete(id) {
      return (
        (await whenConditionHolds(() =>
          client.send(
            new DeleteItemCommand({
              TableName: tableName,
              Key: marshall(authKey(id)),
              ConditionExpression: 'attribute_exists(#pk)',
              ExpressionAttributeNames: { '#pk': ATTR.pk },
            }),
          ),
        )) !== undefined
      );
    },
  };
}
