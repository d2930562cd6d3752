import type { OperatorDigest } from './authorizer';
import type { AuthConfig } from './config';
import { sha256 } from './token';

/** Reads a secret's current string value (Secrets Manager on AWS; a stub in tests). */
export type ReadSecret = (secretId: string) => Promise<string>;

/**
 * Where the operator token comes from: the token itself or its hash (local mode),
 * or a Secrets Manager secret (AWS), read once per `cacheMs` so a rotated value takes
 * effect within minutes without a read on every request. A failed refresh keeps the
 * last good value: an outage of Secrets Manager must not lock the operator out.
 */
export function operatorDigestFrom(
  cfg: Partial<
    Pick<
      AuthConfig,
      | 'ROTA_BOOTSTRAP_TOKEN'
      | 'ROTA_BOOTSTRAP_TOKEN_SHA256'
      | 'ROTA_BOOTSTRAP_TOKEN_SECRET_ARN'
      | 'ROTA_BOOTSTRAP_TOKEN_CACHE_SECONDS'
    >
  >,
  readSecret?: ReadSecret,
  now: () => number = Date.now,
): OperatorDigest {
  if (cfg.ROTA_BOOTSTRAP_TOKEN) {
    const digest = sha256(cfg.ROTA_BOOTSTRAP_TOKEN);
    return async () => digest;
  }
  if (cfg.ROTA_BOOTSTRAP_TOKEN_SHA256) {
    const digest = Buffer.from(cfg.ROTA_BOOTSTRAP_TOKEN_SHA256, 'hex');
    return async () => digest;
  }
  const secretArn = cfg.ROTA_BOOTSTRAP_TOKEN_SECRET_ARN;
  if (!secretArn || !readSecret) return async () => undefined;

  const cacheMs = (cfg.ROTA_BOOTSTRAP_TOKEN_CACHE_SECONDS ?? 300) * 1000;
  let cached: { digest: Buffer; at: number } | undefined;
  let pending: Promise<Buffer> | undefined;
  const refresh = async () => {
    const value = (await readSecret(secretArn)).trim();
    if (value.length < 16) throw new Error('the operator token secret is shorter than 16 characters');
    cached = { digest: sha256(value), at: now() };
    return cached.digest;
  };
  return async () => {
    if (cached && now() - cached.at < cacheMs) return cached.digest;
    // One read at a time: a burst of cold requests shares it.
    pending ??= refresh().finally(() => {
      pending = undefined;
    });
    try {
      return await pending;
    } catch (error) {
      if (cached) return cached.digest;
      throw error;
    }
  };
}
