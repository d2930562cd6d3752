import * as z from 'zod/mini';
import { AUTH_SETTINGS } from './auth/config';
import { boundedInt, nonEmpty } from './env-schema';

const bool = z.pipe(
  z.optional(z.enum(['true', 'false', '1', '0', ''])),
  z.transform((v) => v === 'true' || v === '1'),
);

const splitList = z.transform((v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const list = z.pipe(z._default(z.string(), ''), splitList);

const endpoint = z.optional(z.url());

const ENGINE_SETTINGS = {
  /** Required by every function that touches the table (lib/function-config.ts says which). */
  ROTA_TABLE_NAME: nonEmpty,
  ROTA_RUNS_QUEUE_URL: nonEmpty,
  /** The EventBridge bus Rota's events go to (the stream consumer); unset, no events are put. */
  ROTA_EVENT_BUS_NAME: nonEmpty,
  /**
   * The event types the stream consumer puts on the bus (the construct's `eventTypes`),
   * checked by the consumer's part so that only its bundle carries the list; unset, every type.
   */
  ROTA_EVENT_TYPES: z.optional(z.pipe(z.string(), splitList)),
  /** Sources whose "Run Requested" events start runs (the construct's `runRequestSources`). */
  ROTA_RUN_REQUEST_SOURCES: list,
  /**
   * The scheduler's planning queue (docs/decisions/0014, "Deployed fan-out"): when set, a
   * tick whose due index needs more than one planning worker sends one job per shard
   * range there; when unset (local mode) the scheduler plans every shard itself.
   */
  ROTA_PLANNING_QUEUE_URL: nonEmpty,
  /**
   * Planning workers per tick, fixed by the operator. @default derived each tick from the
   * due index's item count (DescribeTable), at most the shards read
   */
  ROTA_PLANNING_WORKERS: z.optional(boundedInt(1, 256)),
  ROTA_DUE_SHARDS: z._default(boundedInt(1, 256), 8),
  ROTA_RUN_RETENTION_DAYS: z._default(z.coerce.number().check(z.minimum(1), z.maximum(3650)), 7),
  /** How often the scheduler fires; its lookahead and the missed-run grace follow it. */
  ROTA_SCHEDULER_INTERVAL_SECONDS: z._default(boundedInt(1, 900), 60),
  /**
   * How far ahead the scheduler plans runs (SQS delays them): an every-1m task is
   * advanced once per 15 runs at the default. Never below one interval or a minute.
   */
  ROTA_SCHEDULER_LOOKAHEAD_SECONDS: z._default(boundedInt(60, 900), 900),
  /**
   * Due shards the scheduler reads, when above ROTA_DUE_SHARDS: after lowering the shard
   * count, keep the old count here until the shards above the new count are empty (a
   * task moves into the new shards when it is next advanced). @default ROTA_DUE_SHARDS
   */
  ROTA_DUE_SHARDS_READ: z.optional(boundedInt(1, 256)),
  /**
   * How long an executor's claim on a run (and its lease slot) lives without a
   * heartbeat: after that its run counts as stranded and is resumed. Open runs count as
   * stalled this long after they were due (the reconciler's grace).
   */
  ROTA_CLAIM_TTL_SECONDS: z._default(boundedInt(3, 300), 30),
  ROTA_ALLOW_PRIVATE_TARGETS: bool,
  ROTA_ALLOWED_TARGET_HOSTS: list,
  /** Local mode: its own API and emulator ports, which no target may reach (lib/net/address-policy.ts). */
  ROTA_RESERVED_TARGET_PORTS: z.pipe(
    list,
    z.array(z.pipe(z.string().check(z.regex(/^\d{1,5}$/, 'must be port numbers')), z.transform(Number))),
  ),
  /**
   * Local mode and tests point the SDK at emulators; on AWS these are unset. Every
   * client the composition root builds takes its endpoint from here
   * (lib/composition/clients.ts), the runners' SNS, EventBridge and Lambda clients too.
   */
  ROTA_DYNAMODB_ENDPOINT: endpoint,
  ROTA_SQS_ENDPOINT: endpoint,
  ROTA_SNS_ENDPOINT: endpoint,
  ROTA_EVENTBRIDGE_ENDPOINT: endpoint,
  ROTA_LAMBDA_ENDPOINT: endpoint,
  ROTA_KMS_ENDPOINT: endpoint,
  ROTA_SECRETSMANAGER_ENDPOINT: endpoint,
  /**
   * The InfluxDB v2 API that Flux tasks without a target of their own run on. Its token
   * comes from Secrets Manager on AWS (read on first use) or from the setting locally.
   */
  ROTA_INFLUX_URL: z.optional(z.url({ protocol: /^https?$/, error: 'must be an http or https URL' })),
  ROTA_INFLUX_ORG: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  ROTA_INFLUX_TOKEN: nonEmpty,
  ROTA_INFLUX_TOKEN_SECRET_ARN: nonEmpty,
  AWS_REGION: z._default(z.string(), 'us-east-1'),
  /**
   * Powertools' own switch for EMF metrics. Read here too, so a root built from a config
   * object (local mode) honours it without it being in process.env.
   */
  POWERTOOLS_METRICS_DISABLED: bool,
};

/**
 * Every setting Rota reads, in one schema: the engine's and the security settings
 * (lib/auth/config.ts). A process parses it once, at cold start, into a `RotaConfig`
 * (lib/function-config.ts for a Lambda function, local/config.ts for local mode) and
 * hands that object to the composition root (lib/composition/root.ts); nothing else
 * reads the environment for them.
 */
export const ROTA_CONFIG_SCHEMA = z.object({ ...ENGINE_SETTINGS, ...AUTH_SETTINGS });

export type RotaConfig = z.infer<typeof ROTA_CONFIG_SCHEMA>;

export class ConfigError extends Error {}

/** The names of every setting the schema knows. */
export const ROTA_SETTINGS: readonly string[] = Object.keys(ROTA_CONFIG_SCHEMA.shape);

/** Validates a set of variables (an environment, or local mode's own); a bad one fails loudly, by name. */
export function parseConfig(variables: Readonly<Record<string, string | undefined>>): RotaConfig {
  const result = ROTA_CONFIG_SCHEMA.safeParse(variables);
  if (!result.success) throw configError(result.error);
  return result.data;
}

export function configError(error: z.core.$ZodError): ConfigError {
  const detail = error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  return new ConfigError(`invalid Rota configuration: ${detail}`);
}

/** A setting a part of the root cannot do without; the function's declared needs fail earlier, by name. */
export function required(config: RotaConfig, name: 'ROTA_TABLE_NAME' | 'ROTA_RUNS_QUEUE_URL'): string {
  const value = config[name];
  if (!value) throw new ConfigError(`invalid Rota configuration: ${name}: required`);
  return value;
}
