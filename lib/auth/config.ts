import * as z from 'zod/mini';
import { boundedInt, trimmedOrUnset as optional } from '../env-schema';

/**
 * The security settings: a fragment of the one configuration schema (lib/config.ts),
 * kept beside the auth code that reads them.
 */
export const AUTH_SETTINGS = {
  /**
   * `token`: callers present API tokens (a Lambda authorizer on AWS, the HTTP adapter
   * locally). `iam`: API Gateway checked SigV4; callers are trusted services and act as
   * the operator. `none`: no authentication; every caller is the operator.
   */
  ROTA_AUTH_MODE: z._default(z.enum(['token', 'iam', 'none']), 'token'),
  /** The operator token itself (local mode, tests). */
  ROTA_BOOTSTRAP_TOKEN: optional.check(
    z.refine((v) => v === undefined || v.length >= 16, { message: 'must be at least 16 characters' }),
  ),
  /** Hex SHA-256 of the operator token, when only its hash is kept (local mode with a data dir). */
  ROTA_BOOTSTRAP_TOKEN_SHA256: optional.check(
    z.refine((v) => v === undefined || /^[0-9a-f]{64}$/.test(v), { message: 'must be 64 hex digits' }),
  ),
  /** Secrets Manager secret holding the operator token (AWS). */
  ROTA_BOOTSTRAP_TOKEN_SECRET_ARN: optional,
  /** How long the authorizer keeps the operator secret before reading it again. */
  ROTA_BOOTSTRAP_TOKEN_CACHE_SECONDS: z._default(boundedInt(0, 3600), 300),
  /** KMS key that seals secrets in targets (AWS). */
  ROTA_SECRETS_KMS_KEY_ARN: optional,
  /** AES-256 key (base64 or hex) that seals secrets in targets (local mode). */
  ROTA_SECRETS_KEY: optional,
  /** Tasks one org may hold, over all systems. */
  ROTA_MAX_TASKS_PER_ORG: z._default(boundedInt(1, 1_000_000), 1000),
};

const AUTH_SCHEMA = z.object(AUTH_SETTINGS);
export type AuthConfig = z.infer<typeof AUTH_SCHEMA>;
export type AuthMode = AuthConfig['ROTA_AUTH_MODE'];
