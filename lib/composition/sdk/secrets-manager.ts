// Loaded by lib/composition/clients.ts when a secret is first read, so a cold start carries no Secrets Manager client.
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
