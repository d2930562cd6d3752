import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { whenConditionHolds, wrote } from '../store/items';
import { INDEX, orgAuthorizationsPk, tokenOrgsKey } from '../store/keys';
import { mergedPage, type OrgDirectory, orgDirectories } from '../store/org-directory';
import { getToken, type TokenItems, tokenItems } from './token-reader';

export { AUTH_STORE } from './table-uses';

import type { Authorization, AuthorizationStatus } from './model';

export interface AuthorizationChange {
  status?: AuthorizationStatus | undefined;
  description?: string | undefined;
  updatedAt: string;
}

export interface ListAuthorizationsQuery {
  /** Undefined: every org's tokens (the operator's view). */
  orgID?: string | undefined;
  /** Only the tokens created for this `userID`. */
  userID?: string | undefined;
  after?: string | undefined;
  limit: number;
}

export interface AuthStore {
  /** Conditional create; false when the id is taken. */
  create(authorization: Authorization): Promise<boolean>;
  get(id: string): Promise<Authorization | undefined>;
  /** One org's tokens, or every org's without `orgID`, oldest first, paged by id. */
  list(query: ListAuthorizationsQuery): Promise<{ authorizations: Authorization[]; more: boolean }>;
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
  const tokens = tokenItems(client, tableName);
  // Only the token store uses its directory, so the authorizer's bundle does not carry it.
  const orgs = orgDirectories(tokens.table, tokens.send, tokenOrgsKey)(TOKEN_DIRECTORY);
  const store: Store = { ...tokens, orgs };
  return {
    create: (...args) => create(store, ...args),
    get: (...args) => getToken(store, ...args),
    list: (...args) => list(store, ...args),
    update: (...args) => update(store, ...args),
    delete: (...args) => deleteToken(store, ...args),
  };
}

type Store = TokenItems & { orgs: OrgDirectory };

/** The token directory's one name; its key (`AUTH#~orgs`) predates the shared directories. */
const TOKEN_DIRECTORY = 'orgs';

async function create(store: Store, authorization: Authorization) {
  const { tokens, send } = store;
  await store.orgs.register(authorization.orgID);
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

async function list(store: Store, query: ListAuthorizationsQuery) {
  const { orgID, limit } = query;
  if (orgID !== undefined) {
    const page = await listOrg(store, orgID, query);
    // Tokens stored before the directory existed: an org that lists its tokens joins it.
    if (page.length > 0 && query.after === undefined) await store.orgs.register(orgID);
    return { authorizations: page.slice(0, limit), more: page.length > limit };
  }
  const { items, more } = await mergedPage(await store.orgs.orgs(), limit, (org) =>
    listOrg(store, org, query),
  );
  return { authorizations: items, more };
}

/** Up to `limit + 1` of one org's tokens past `after`: one extra tells whether another page exists. */
async function listOrg(
  store: Store,
  orgID: string,
  { userID, after, limit }: ListAuthorizationsQuery,
): Promise<Authorization[]> {
  const { table, tokens, send, toAuthorization } = store;
  const query = table
    .build(QueryCommand)
    .entities(tokens)
    .query({
      index: INDEX.byOrgType,
      partition: orgAuthorizationsPk(orgID),
      ...(after !== undefined ? { range: { gt: after } } : {}),
    });
  const found: Authorization[] = [];
  let cursor: Record<string, unknown> | undefined;
  // A filter can thin a page, so keep reading until one extra match proves there is more.
  do {
    const params = query
      .options({
        limit: limit + 1,
        ...(userID !== undefined ? { filters: { authorization: { attr: 'userID', eq: userID } } } : {}),
        ...(cursor ? { exclusiveStartKey: cursor } : {}),
      })
      .params();
    const page = await send.query(params);
    found.push(...page.items.map(toAuthorization));
    cursor = page.cursor;
  } while (cursor && found.length <= limit);
  return found;
}

async function update(store: Store, id: string, change: AuthorizationChange) {
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

async function deleteToken(store: Store, id: string) {
  const { tokens, send } = store;
  const del = tokens
    .build(DeleteItemCommand)
    .key({ id })
    .options({ condition: { attr: 'id', exists: true } });
  return wrote(() => send.delete(del.params()));
}
