import * as z from 'zod';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

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
  ROTA_AUTH_MODE: z.enum(['token', 'iam', 'none']).default('token'),
  /** The operator token itself (local mode, tests). */
  ROTA_BOOTSTRAP_TOKEN: optional.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  /** Hex SHA-256 of the operator token, when only its hash is kept (local mode with a data dir). */
  ROTA_BOOTSTRAP_TOKEN_SHA256: optional.refine((v) => v === undefined || /^[0-9a-f]{64}$/.test(v), {
    message: 'must be 64 hex digits',
  }),
  /** Secrets Manager secret holding the operator token (AWS). */
  ROTA_BOOTSTRAP_TOKEN_SECRET_ARN: optional,
  /** How long the authorizer keeps the operator secret before reading it again. */
  ROTA_BOOTSTRAP_TOKEN_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
  /** KMS key that seals secrets in targets (AWS). */
  ROTA_SECRETS_KMS_KEY_ARN: optional,
  /** AES-256 key (base64 or hex) that seals secrets in targets (local mode). */
  ROTA_SECRETS_KEY: optional,
  /** Tasks one org may hold, over all systems. */
  ROTA_MAX_TASKS_PER_ORG: z.coerce.number().int().min(1).max(1_000_000).default(1000),
};

const AUTH_SCHEMA = z.object(AUTH_SETTINGS);
export type AuthConfig = z.infer<typeof AUTH_SCHEMA>;
export type AuthMode = AuthConfig['ROTA_AUTH_MODE'];
