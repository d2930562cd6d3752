import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { rotaTable, tableSender } from '../store/table';
import { authEntity } from './entity';
import type { Authorization } from './model';

/**
 * Reading one token, apart from the token store's writes: the authorizer needs only
 * this, and dynamodb-toolbox's modules stay in a bundle once imported, so the
 * authorizer's bundle holds the entity, its formatter and GetItem, not the put,
 * update, delete and query builders (lib/auth/store.ts).
 */
export interface TokenReader {
  get(id: string): Promise<Authorization | undefined>;
}

/** What the token store's operations share: the token entity, its table, the sender. */
export function tokenItems(client: DynamoDBClient, tableName: string) {
  const table = rotaTable(tableName);
  const tokens = authEntity(table);
  const formatter = tokens.build(EntityFormatter);
  const toAuthorization = (item: Record<string, unknown>): Authorization => {
    const { orgTypePk: _pk, orgTypeSk: _sk, ...authorization } = formatter.format(item);
    return authorization;
  };
  return { table, tokens, send: tableSender(client), toAuthorization };
}

export type TokenItems = ReturnType<typeof tokenItems>;

export async function getToken(store: TokenItems, id: string): Promise<Authorization | undefined> {
  const { tokens, send, toAuthorization } = store;
  // Consistent, so the authorizer never reads a stale token: a deactivated or deleted
  // token fails its next request. Only an operator who sets authorizerCacheTtl (0 by
  // default) lets API Gateway keep a revoked token working until its cached answer expires.
  const item = await send.get(
    tokens.build(GetItemCommand).key({ id }).options({ consistent: true }).params(),
  );
  return item ? toAuthorization(item) : undefined;
}

export function createTokenReader({
  client,
  tableName,
}: {
  client: DynamoDBClient;
  tableName: string;
}): TokenReader {
  const store = tokenItems(client, tableName);
  return { get: (id) => getToken(store, id) };
}
