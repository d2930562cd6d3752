import { AUTH_CONFIG_SCHEMA } from './auth/config';
import { ConfigError, ROTA_CONFIG_SCHEMA } from './config';

/**
 * What a function needs from its environment beyond the defaults, named once. Each
 * functions/*.ts states its needs at cold start (`requireFunctionConfig`); the infra
 * tests start every function under the environment the construct synthesizes for it,
 * so a variable the code needs and the construct does not set fails there, not on AWS.
 */
export type ConfigNeed = 'table' | 'runsQueue' | 'secretsKey' | 'operatorToken';

/** Each need is met by any one of these variables. */
const NEEDS: Record<ConfigNeed, readonly string[]> = {
  table: ['ROTA_TABLE_NAME'],
  runsQueue: ['ROTA_RUNS_QUEUE_URL'],
  // KMS on AWS, a local AES key in local mode.
  secretsKey: ['ROTA_SECRETS_KMS_KEY_ARN', 'ROTA_SECRETS_KEY'],
  // A Secrets Manager secret on AWS; the token or its hash in local mode.
  operatorToken: ['ROTA_BOOTSTRAP_TOKEN_SECRET_ARN', 'ROTA_BOOTSTRAP_TOKEN', 'ROTA_BOOTSTRAP_TOKEN_SHA256'],
};

/** Every Rota variable in one schema (the engine's and the security settings), with `needs` required. */
export function functionConfigSchema(needs: readonly ConfigNeed[]) {
  return ROTA_CONFIG_SCHEMA.partial({ ROTA_TABLE_NAME: true })
    .extend(AUTH_CONFIG_SCHEMA.shape)
    .superRefine((cfg, ctx) => {
      const values = cfg as Record<string, unknown>;
      for (const need of needs) {
        const names = NEEDS[need];
        if (names.some((name) => values[name] !== undefined && values[name] !== '')) continue;
        ctx.addIssue({
          code: 'custom',
          path: [names[0] ?? need],
          message: `required by this function (set ${names.join(' or ')})`,
        });
      }
    });
}

/** Validates the environment at cold start: a missing or invalid variable fails the function at once, by name. */
export function requireFunctionConfig(
  needs: readonly ConfigNeed[],
  env: NodeJS.ProcessEnv = process.env,
): void {
  const result = functionConfigSchema(needs).safeParse(env);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid Rota configuration: ${detail}`);
  }
}
