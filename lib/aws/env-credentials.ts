import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * What the function bundles get for `@aws-sdk/credential-provider-node`: infra/bundling.ts
 * aliases that module here, so this file stands in for it under the same names.
 *
 * Every SDK client builds its credentials with that module's `defaultProvider`, a chain
 * that tries the environment, then SSO, shared ini files, `credential_process`, web
 * identity tokens and the container and instance metadata services. On Lambda the
 * credentials are always in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), so the rest of the chain, and the STS, SSO and sign-in clients it
 * bundles, are about 100 KB that only cost import time. Local mode's `--bundles` hands its
 * worker credentials in the same variables (local/bundles.ts); local mode from source
 * never goes through this file and keeps the whole chain.
 *
 * No cache: a signed request reads a few variables, which costs what a cache lookup would.
 */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);

type Credentials = Awaited<ReturnType<ReturnType<typeof fromEnv>>>;

/** As the chain's own helper: credentials that carry an expiry will need refreshing. */
export const credentialsWillNeedRefresh = (credentials: Credentials): boolean =>
  credentials.expiration !== undefined;

/** As the chain's own helper: credentials with less than five minutes left count as expired. */
export const credentialsTreatedAsExpired = (credentials: Credentials): boolean =>
  credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
