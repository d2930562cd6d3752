import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Entity } from 'dynamodb-toolbox/entity';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { $add } from 'dynamodb-toolbox/entity/actions/update/symbols';
import { item } from 'dynamodb-toolbox/schema/item';
import { set } from 'dynamodb-toolbox/schema/set';
import { string } from 'dynamodb-toolbox/schema/string';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { whenConditionHolds, wrote } from '../store/items';
import { INDEX, orgAuthorizationsPk, tokenOrgsKey } from '../store/keys';
import type { RotaTable } from '../store/table';
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

/**
 * The orgs that hold tokens (`AUTH#~orgs`), one string set: the operator lists every
 * org's tokens by querying each org's byOrgType partition, never by a Scan. Only the
 * token store uses it, so the authorizer's bundle does not carry it.
 */
const tokenOrgsEntity = (table: RotaTable) =>
  new Entity({
    entityAttribute: false,
    timestamps: false,
    name: 'tokenOrgs',
    table,
    schema: item({ directory: string().key().const('orgs'), orgIDs: set(string()).optional() }),
    computeKey: () => tokenOrgsKey(),
  });

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
  const store: Store = { ...tokens, orgs: tokenOrgsEntity(tokens.table) };
  return {
    create: (...args) => create(store, ...args),
    get: (...args) => getToken(store, ...args),
    list: (...args) => list(store, ...args),
    update: (...args) => update(store, ...args),
    delete: (...args) => deleteToken(store, ...args),
  };
}

type Store = TokenItems & { orgs: ReturnType<typeof tokenOrgsEntity> };

/** Idempotent; written before the token, so no token's org is ever missing from the directory. */
async function registerOrg(store: Store, orgID: string): Promise<void> {
  const params = store.orgs
    .build(UpdateItemCommand)
    .item({ directory: 'orgs', orgIDs: $add(new Set([orgID])) })
    .params();
  await store.send.update(params);
}

async function tokenOrgs(store: Store): Promise<string[]> {
  const params = store.orgs.build(GetItemCommand).key({ directory: 'orgs' }).params();
  const found = await store.send.get(params);
  const orgIDs = found?.[ATTR_ORG_IDS];
  return orgIDs instanceof Set ? [...orgIDs].filter((o): o is string => typeof o === 'string').sort() : [];
}

const ATTR_ORG_IDS = 'orgIDs';
const ORGS_AT_ONCE = 16;

async function create(store: Store, authorization: Authorization) {
  const { tokens, send } = store;
  await registerOrg(store, authorization.orgID);
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
    if (page.length > 0 && query.after === undefined) await registerOrg(store, orgID);
    return { authorizations: page.slice(0, limit), more: page.length > limit };
  }
  // Every org's page past `after`; ULIDs sort by creation across orgs, so one merge pages them all.
  const orgs = await tokenOrgs(store);
  const pages: Authorization[][] = [];
  // A few orgs at a time: a directory of thousands must not open thousands of sockets.
  for (let i = 0; i < orgs.length; i += ORGS_AT_ONCE) {
    const batch = orgs.slice(i, i + ORGS_AT_ONCE);
    pages.push(...(await Promise.all(batch.map((org) => listOrg(store, org, query)))));
  }
  const merged = pages.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { authorizations: merged.slice(0, limit), more: merged.length > limit };
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
