import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { config } from '../config';
import { declareResource, recorded } from '../observability/aws-calls';
import { type Authorizer, createAuthorizer } from './authorizer';
import { authConfig } from './config';
import { operatorDigestFrom } from './operator';
import { type AuthStore, createAuthStore } from './store';

/**
 * What the authorizer and the authorizations API need, built once per process. Its
 * own DynamoDB client keeps the engine (SQS, runners) out of the authorizer's bundle.
 */
export function createAuthRuntime(): { store: AuthStore; authorizer: Authorizer } {
  const cfg = config();
  const auth = authConfig();
  const dynamo = recorded(
    new DynamoDBClient({
      region: cfg.AWS_REGION,
      ...(cfg.ROTA_DYNAMODB_ENDPOINT ? { endpoint: cfg.ROTA_DYNAMODB_ENDPOINT } : {}),
    }),
  );
  declareResource('table', cfg.ROTA_TABLE_NAME);
  if (auth.ROTA_BOOTSTRAP_TOKEN_SECRET_ARN)
    declareResource('operatorSecret', auth.ROTA_BOOTSTRAP_TOKEN_SECRET_ARN);
  const store = createAuthStore({ client: dynamo, tableName: cfg.ROTA_TABLE_NAME });
  let secrets: SecretsManagerClient | undefined;
  const readSecret = async (secretId: string) => {
    secrets ??= recorded(new SecretsManagerClient({ region: cfg.AWS_REGION }));
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString === undefined) throw new Error('the operator token secret has no string value');
    return out.SecretString;
  };
  const authorizer = createAuthorizer({ store, operatorDigest: operatorDigestFrom(auth, readSecret) });
  return { store, authorizer };
}

let current: ReturnType<typeof createAuthRuntime> | undefined;
export function authRuntime(): ReturnType<typeof createAuthRuntime> {
  current ??= createAuthRuntime();
  return current;
}
