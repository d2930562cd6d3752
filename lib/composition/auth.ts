import { type Authorizer, createAuthorizer } from '../auth/authorizer';
import { operatorDigestFrom } from '../auth/operator';
import { createTokenReader, type TokenReader } from '../auth/token-reader';
import { required } from '../config';
import { declareResource } from '../observability/aws-calls';
import { dynamoDbClient } from './clients';
import type { Part } from './root';
import { secretString } from './secrets';

/** Reads one token: all the authorizer needs, so its bundle holds no token writes. */
export const tokenReader: Part<TokenReader> = (rota) => {
  const tableName = required(rota.config, 'ROTA_TABLE_NAME');
  declareResource('table', tableName);
  return createTokenReader({ client: rota.get(dynamoDbClient), tableName });
};

/** Checks API tokens; the operator's comes from the configuration or from Secrets Manager, read on first use. */
export const authorizer: Part<Authorizer> = (rota) => {
  const secretArn = rota.config.ROTA_BOOTSTRAP_TOKEN_SECRET_ARN;
  if (secretArn) declareResource('operatorSecret', secretArn);
  const read = rota.get(secretString);
  const readSecret = async (secretId: string) => {
    const value = await read(secretId);
    if (value === undefined) throw new Error('the operator token secret has no string value');
    return value;
  };
  return createAuthorizer({
    store: rota.get(tokenReader),
    operatorDigest: operatorDigestFrom(rota.config, readSecret),
  });
};
