import { KMSClient } from '@aws-sdk/client-kms';
import { ConfigError } from '../config';
import { declareResource, recorded } from '../observability/aws-calls';
import { type AuthConfig, authConfig } from './config';
import { createKmsSecretBox } from './kms-secret-box';
import { createLocalSecretBox, parseSecretsKey, type SecretBox } from './secrets';

/**
 * The box the configuration names: KMS envelope encryption on AWS
 * (`ROTA_SECRETS_KMS_KEY_ARN`), AES-GCM under `ROTA_SECRETS_KEY` locally. With
 * neither, there is no box: storing a credential in clear text is never a fallback.
 */
export function secretBoxFromConfig(
  cfg: Pick<AuthConfig, 'ROTA_SECRETS_KMS_KEY_ARN' | 'ROTA_SECRETS_KEY'>,
  region = process.env.AWS_REGION ?? 'us-east-1',
): SecretBox {
  if (cfg.ROTA_SECRETS_KMS_KEY_ARN) {
    declareResource('secretsKey', cfg.ROTA_SECRETS_KMS_KEY_ARN);
    return createKmsSecretBox({
      client: recorded(new KMSClient({ region })),
      keyArn: cfg.ROTA_SECRETS_KMS_KEY_ARN,
    });
  }
  if (cfg.ROTA_SECRETS_KEY) return createLocalSecretBox(parseSecretsKey(cfg.ROTA_SECRETS_KEY));
  throw new ConfigError(
    'no secrets key: set ROTA_SECRETS_KMS_KEY_ARN (AWS) or ROTA_SECRETS_KEY (local) so credentials in targets are stored encrypted',
  );
}

let cached: SecretBox | undefined;

/** The process's box, built on first use. */
export function secretBox(): SecretBox {
  cached ??= secretBoxFromConfig(authConfig());
  return cached;
}

/** Defers building the box until a value is sealed or opened, for code paths that may never need one. */
export function lazySecretBox(build: () => SecretBox = secretBox): SecretBox {
  return {
    seal: (plain) => build().seal(plain),
    open: (sealed) => build().open(sealed),
  };
}

export function resetSecretBoxForTests(): void {
  cached = undefined;
}
