import * as z from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const ROTA_CONFIG_SCHEMA = z.object({
  ROTA_TABLE_NAME: z.string().min(1),
  ROTA_RUNS_QUEUE_URL: z.string().min(1).optional(),
  ROTA_DUE_SHARDS: z.coerce.number().int().min(1).max(256).default(8),
  ROTA_RUN_RETENTION_DAYS: z.coerce.number().min(1).max(3650).default(7),
  /** How often the scheduler fires; its lookahead and the missed-run grace follow it. */
  ROTA_SCHEDULER_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(900).default(60),
  /**
   * How long an executor's claim on a run (and its lease slot) lives without a
   * heartbeat: after that its run counts as stranded and is resumed. Open runs count as
   * stalled this long after they were due (the reconciler's grace).
   */
  ROTA_CLAIM_TTL_SECONDS: z.coerce.number().int().min(3).max(300).default(30),
  ROTA_ALLOW_PRIVATE_TARGETS: bool,
  ROTA_ALLOWED_TARGET_HOSTS: list,
  /** Local mode: its own API and emulator ports, which no target may reach (lib/net/address-policy.ts). */
  ROTA_RESERVED_TARGET_PORTS: list.pipe(
    z.array(
      z
        .string()
        .regex(/^\d{1,5}$/, 'must be port numbers')
        .transform(Number),
    ),
  ),
  /** Local mode and tests point the SDK at emulators; on AWS these are unset. */
  ROTA_DYNAMODB_ENDPOINT: z.string().url().optional(),
  ROTA_SQS_ENDPOINT: z.string().url().optional(),
  AWS_REGION: z.string().default('us-east-1'),
});

export type RotaConfig = z.infer<typeof ROTA_CONFIG_SCHEMA>;

export class ConfigError extends Error {}

/** Reads and validates the environment once; a missing variable fails loudly at cold start. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): RotaConfig {
  const result = ROTA_CONFIG_SCHEMA.safeParse(env);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid Rota configuration: ${detail}`);
  }
  return result.data;
}

let cached: RotaConfig | undefined;
export function config(): RotaConfig {
  cached ??= readConfig();
  return cached;
}

/** For local mode and tests, which set the environment before building the app. */
export function resetConfigForTests(): void {
  cached = undefined;
}
