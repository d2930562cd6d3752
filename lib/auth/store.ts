import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { DELETE, GET, PUT, type TableUse, UPDATE } from '../store/access';
import { whenConditionHolds, wrote } from '../store/items';
import { INDEX, orgAuthorizationsPk, PARTITION } from '../store/keys';
import { type RotaTable, rotaTable, tableSender } from '../store/table';
import { authEntity } from './entity';

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

/** What the token store's operations share: the token entity, its table, the sender. */
function authItems(client: DynamoDBClient, tableName: string) {
  const table: RotaTable = rotaTable(tableName);
  const tokens = authEntity(table);
  const formatter = tokens.build(EntityFormatter);
  const toAuthorization = (item: Record<string, unknown>): Authorization => {
    const { orgTypePk: _pk, orgTypeSk: _sk, ...authorization } = formatter.format(item);
    return authorization;
  };
  return { table, tokens, send: tableSender(client), toAuthorization };
}

type AuthItems = ReturnType<typeof authItems>;

export function createAuthStore({
  client,
  tableName,
}: {
  client: DynamoDBClient;
  tableName: string;
}): AuthStore {
  const store = authItems(client, tableName);
  return {
    create: (...args) => create(store, ...args),
    get: (...args) => get(store, ...args),
    list: (...args) => list(store, ...args),
    update: (...args) => update(store, ...args),
    delete: (...args) => deleteToken(store, ...args),
  };
}

async function create(store: AuthItems, authorization: Authorization) {
  const { tokens, send } = store;
  const put = tokens
    .build(PutItemCommand)
    .item({
      ...authorization,
      orgTypePk: orgAuthorizationsPk(authorization.orgID),
      orgTypeSk: authorization.id,
    })
    .options({ condition: { attr: 'id', exists: false } });
  return wrote(() => send.put(put.params()));
}

async function get(store: AuthItems, id: string) {
  const { tokens, send, toAuthorization } = store;
  // Consistent, so the authorizer never reads a stale token: locally a deactivated or
  // deleted token fails its next request. On AWS, API Gateway caches each authorizer
  // answer per Authorization value for authorizerCacheTtl (60 s by default), and a
  // cached answer keeps a revoked token working until it expires.
  const item = await send.get(
    tokens.build(GetItemCommand).key({ id }).options({ consistent: true }).params(),
  );
  return item ? toAuthorization(item) : undefined;
}

async function list(
  store: AuthItems,
  { orgID, after, limit }: { orgID: string; after?: string | undefined; limit: number },
) {
  const { table, tokens, send, toAuthorization } = store;
  const params = table
    .build(QueryCommand)
    .entities(tokens)
    .query({
      index: INDEX.byOrgType,
      partition: orgAuthorizationsPk(orgID),
      ...(after !== undefined ? { range: { gt: after } } : {}),
    })
    // One extra item tells whether another page exists.
    .options({ limit: limit + 1 })
    .params();
  const items = (await send.query(params)).items.map(toAuthorization);
  return { authorizations: items.slice(0, limit), more: items.length > limit };
}

async function update(store: AuthItems, id: string, change: AuthorizationChange) {
  const { tokens, send, toAuthorization } = store;
  const update = tokens
    .build(UpdateItemCommand)
    .item({
      id,
      updatedAt: change.updatedAt,
      ...(change.status !== undefined ? { status: change.status } : {}),
      ...(change.description !== undefined ? { description: change.description } : {}),
    })
    .options({ condition: { attr: 'id', exists: true }, returnValues: 'ALL_NEW' });
  const out = await whenConditionHolds(() => send.update(update.params()));
  return out ? toAuthorization(out) : undefined;
}

async function deleteToken(store: AuthItems, id: string) {
  const { tokens, send } = store;
  const del = tokens
    .build(DeleteItemCommand)
    .key({ id })
    .options({ condition: { attr: 'id', exists: true } });
  return wrote(() => send.delete(del.params()));
}
