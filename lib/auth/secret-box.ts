import type { KMSClient } from '@aws-sdk/client-kms';
import { ConfigError } from '../config';
import { declareResource } from '../observability/aws-calls';
import type { AuthConfig } from './config';
import { createLocalSecretBox, parseSecretsKey, type SecretBox } from './secrets';

/**
 * The box the configuration names: KMS envelope encryption on AWS
 * (`ROTA_SECRETS_KMS_KEY_ARN`, with the KMS client the composition root builds; the box's
 * module and the client load on the first seal or open, ADR 0017), AES-GCM
 * under `ROTA_SECRETS_KEY` locally. With neither, there is no box: storing a credential
 * in clear text is never a fallback.
 */
export function secretBoxFromConfig(
  cfg: Pick<AuthConfig, 'ROTA_SECRETS_KMS_KEY_ARN' | 'ROTA_SECRETS_KEY'>,
  kms?: () => Promise<KMSClient>,
): SecretBox {
  const keyArn = cfg.ROTA_SECRETS_KMS_KEY_ARN;
  if (keyArn) {
    if (!kms) throw new ConfigError('ROTA_SECRETS_KMS_KEY_ARN is set, but no KMS client was given');
    declareResource('secretsKey', keyArn);
    return loadedOnFirstUse(async () => {
      const [{ createKmsSecretBox }, client] = await Promise.all([import('./kms-secret-box'), kms()]);
      return createKmsSecretBox({ client, keyArn });
    });
  }
  if (cfg.ROTA_SECRETS_KEY) return createLocalSecretBox(parseSecretsKey(cfg.ROTA_SECRETS_KEY));
  throw new ConfigError(
    'no secrets key: set ROTA_SECRETS_KMS_KEY_ARN (AWS) or ROTA_SECRETS_KEY (local) so credentials in targets are stored encrypted',
  );
}

/**
 * Defers building the box until a value is sealed or opened, then keeps it, for code
 * paths that may never need one (a function without a secrets key still starts).
 */
export function lazySecretBox(build: () => SecretBox): SecretBox {
  let box: SecretBox | undefined;
  const get = () => {
    box ??= build();
    return box;
  };
  return {
    seal: (plain) => get().seal(plain),
    open: (sealed) => get().open(sealed),
  };
}

/** A box whose code loads on the first seal or open; a failed load is not kept, so the next call tries again. */
function loadedOnFirstUse(load: () => Promise<SecretBox>): SecretBox {
  let box: Promise<SecretBox> | undefined;
  const get = () => {
    box ??= load().catch((error: unknown) => {
      box = undefined;
      throw error;
    });
    return box;
  };
  return {
    seal: async (plain) => (await get()).seal(plain),
    open: async (sealed) => (await get()).open(sealed),
  };
}
