import { type AuthStore, createAuthStore } from '../../auth/store';
import { dynamoDbClient } from '../../composition/clients';
import type { Part } from '../../composition/root';
import { required } from '../../config';
import { declareResource } from '../../observability/aws-calls';

/**
 * API tokens, for the authorizations API: the whole token store, built from the table
 * alone so that the API's bundle holds no engine. The authorizer reads tokens through
 * `tokenReader` (lib/composition/auth.ts), so its bundle holds none of these writes.
 */
export const authStore: Part<AuthStore> = (rota) => {
  const tableName = required(rota.config, 'ROTA_TABLE_NAME');
  declareResource('table', tableName);
  return createAuthStore({ client: rota.get(dynamoDbClient), tableName });
};
