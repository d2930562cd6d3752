import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { whenConditionHolds, wrote } from '../store/items';
import { INDEX, orgAuthorizationsPk } from '../store/keys';
import { getToken, type TokenItems, tokenItems } from './token-reader';

export { AUTH_STORE } from './table-uses';

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

export function createAuthStore({
  client,
  tableName,
}: {
  client: DynamoDBClient;
  tableName: string;
}): AuthStore {
  const store = tokenItems(client, tableName);
  return {
    create: (...args) => create(store, ...args),
    get: (...args) => getToken(store, ...args),
    list: (...args) => list(store, ...args),
    update: (...args) => update(store, ...args),
    delete: (...args) => deleteToken(store, ...args),
  };
}

async function create(store: TokenItems, authorization: Authorization) {
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

async function list(
  store: TokenItems,
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

async function update(store: TokenItems, id: string, change: AuthorizationChange) {
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

async function deleteToken(store: TokenItems, id: string) {
  const { tokens, send } = store;
  const del = tokens
    .build(DeleteItemCommand)
    .key({ id })
    .options({ condition: { attr: 'id', exists: true } });
  return wrote(() => send.delete(del.params()));
}
