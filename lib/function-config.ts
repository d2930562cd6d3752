import * as z from 'zod/mini';
import { ConfigError, configError, ROTA_CONFIG_SCHEMA, type RotaConfig } from './config';

/**
 * What a function needs from its configuration beyond the defaults, named once. Each
 * function's definition states its needs (functions/definitions/*.ts); its Lambda entry
 * checks them at cold start (`requireFunctionConfig`), local mode checks them against its
 * own config object (`checkNeeds`), and the infra tests start every function under the
 * environment the construct synthesizes for it, so a variable the code needs and the
 * construct does not set fails there, not on AWS.
 */
export type ConfigNeed = 'table' | 'runsQueue' | 'secretsKey' | 'operatorToken' | 'eventBus';

/** Each need is met by any one of these settings. */
const NEEDS: Record<ConfigNeed, readonly (keyof RotaConfig)[]> = {
  table: ['ROTA_TABLE_NAME'],
  runsQueue: ['ROTA_RUNS_QUEUE_URL'],
  eventBus: ['ROTA_EVENT_BUS_NAME'],
  // KMS on AWS, a local AES key in local mode.
  secretsKey: ['ROTA_SECRETS_KMS_KEY_ARN', 'ROTA_SECRETS_KEY'],
  // A Secrets Manager secret on AWS; the token or its hash in local mode.
  operatorToken: ['ROTA_BOOTSTRAP_TOKEN_SECRET_ARN', 'ROTA_BOOTSTRAP_TOKEN', 'ROTA_BOOTSTRAP_TOKEN_SHA256'],
};

const unmet = (config: Partial<Record<string, unknown>>, needs: readonly ConfigNeed[]) =>
  needs
    .map((need) => ({ need, names: NEEDS[need] }))
    .filter(({ names }) => !names.some((name) => config[name] !== undefined && config[name] !== ''));

/** The one configuration schema, with `needs` required. */
export function functionConfigSchema(needs: readonly ConfigNeed[]) {
  return ROTA_CONFIG_SCHEMA.check(
    z.superRefine((cfg, ctx) => {
      for (const { need, names } of unmet(cfg, needs)) {
        ctx.addIssue({
          code: 'custom',
          path: [names[0] ?? need],
          message: `required by this function (set ${names.join(' or ')})`,
        });
      }
    }),
  );
}

/**
 * A Lambda function's configuration, parsed once from its environment at cold start: a
 * missing or invalid variable fails the function at once, by name.
 */
export function requireFunctionConfig(
  needs: readonly ConfigNeed[],
  env: Readonly<Record<string, string | undefined>>,
): RotaConfig {
  const result = functionConfigSchema(needs).safeParse(env);
  if (!result.success) throw configError(result.error);
  return result.data;
}

/** Checks a config object built elsewhere (local mode's) against a function's needs. */
export function checkNeeds(config: RotaConfig, needs: readonly ConfigNeed[], fn: string): void {
  const missing = unmet(config, needs);
  if (missing.length === 0) return;
  const detail = missing.map(({ names }) => `${names.join(' or ')}: required by ${fn}`).join('; ');
  throw new ConfigError(`invalid Rota configuration: ${detail}`);
}
