import type { KMSClient } from '@aws-sdk/client-kms';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lazySecretBox, secretBoxFromConfig } from '../auth/secret-box';
import type { SecretBox } from '../auth/secrets';
import { type LazyClient, lazyClient } from './clients';
import type { Part } from './root';

// KMS and Secrets Manager, loaded on the first seal, open or secret read. Apart from
// core.ts, so only the functions that seal, open or read a secret carry their chunks.

export const kmsClient: Part<LazyClient<KMSClient>> = (rota) =>
  lazyClient(rota, 'kms', async (options) => new (await import('./sdk/kms')).KMSClient(options));

export const secretsManagerClient: Part<LazyClient<SecretsManagerClient>> = (rota) =>
  lazyClient(
    rota,
    'secretsmanager',
    async (options) => new (await import('./sdk/secrets-manager')).SecretsManagerClient(options),
  );

/** Reads a secret's string from Secrets Manager, loading the client and its command on the first read. */
export const secretString: Part<(secretId: string) => Promise<string | undefined>> = (rota) => {
  const client = rota.get(secretsManagerClient);
  return async (secretId) => {
    const [sdk, secrets] = await Promise.all([import('./sdk/secrets-manager'), client()]);
    const out = await secrets.send(new sdk.GetSecretValueCommand({ SecretId: secretId }));
    return out.SecretString;
  };
};

/** Seals and opens credentials in targets; built on first use, so a function that never seals needs no key. */
export const secretBox: Part<SecretBox> = (rota) =>
  lazySecretBox(() => secretBoxFromConfig(rota.config, rota.get(kmsClient)));
