import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSecretsKey } from '../lib/auth/secrets';
import { generateOperatorToken, sha256Hex } from '../lib/auth/token';
import type { StaticCredentials } from '../lib/composition/root';
import { ROTA_SETTINGS } from '../lib/config';
import { localTargetEnv } from './target-policy';

export const LOCAL_TABLE = 'rota';

/** What the emulators accept; local mode's clients use them instead of the SDK's credential chain. */
export const LOCAL_CREDENTIALS: StaticCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalSettingsInput {
  /** The environment local mode was started from: its Rota settings apply unless local mode sets its own. */
  inherit?: Readonly<Record<string, string | undefined>> | undefined;
  /** Settings for this start; they win over everything. */
  env?: Record<string, string> | undefined;
  dataDir?: string | undefined;
  allowedTargetHosts?: string | undefined;
  tickMs?: number | undefined;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  runsQueueUrl: string;
  /** Local mode's own API and emulator ports, which no target may reach. */
  ownPorts: number[];
}

/** Only the settings the schema knows: the rest of a shell's environment is no Rota configuration. */
export function rotaSettingsOf(
  env: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => ROTA_SETTINGS.includes(entry[0]) && entry[1] !== undefined,
    ),
  );
}

/**
 * Local mode's settings, as variables: parsed once into its config object (the same
 * schema a Lambda function parses its environment with), and handed as the environment
 * to the bundles in `--bundles` mode.
 */
export function localSettings(input: LocalSettingsInput): {
  variables: Record<string, string>;
  generatedOperatorToken?: string | undefined;
} {
  const security = localSecurity(input);
  const variables: Record<string, string> = {
    ...rotaSettingsOf(input.inherit),
    AWS_REGION: 'us-east-1',
    ROTA_TABLE_NAME: LOCAL_TABLE,
    ROTA_DYNAMODB_ENDPOINT: input.dynamoEndpoint,
    ROTA_SQS_ENDPOINT: input.sqsEndpoint,
    ROTA_RUNS_QUEUE_URL: input.runsQueueUrl,
    // `--bundles` loads every bundle, and the event publisher's needs a bus name to load;
    // local mode never invokes it (its write hook derives the events, ADR 0021).
    ROTA_EVENT_BUS_NAME: 'rota-local-events',
    // The local scheduler ticks every second (the Lambda rule every minute).
    ROTA_SCHEDULER_INTERVAL_SECONDS: String(Math.max(1, Math.round((input.tickMs ?? 1000) / 1000))),
    // EMF metrics would only print to stdout here; CloudWatch reads them on AWS.
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Loopback targets are open here unless the operator closes them; local mode's own
    // ports never are. On AWS loopback is refused unless the operator opens it.
    ...localTargetEnv({
      allowedTargetHosts: input.allowedTargetHosts,
      env: input.inherit ?? {},
      ownPorts: input.ownPorts,
    }),
    // The same token check as on AWS, run by the HTTP adapter instead of API Gateway.
    ROTA_AUTH_MODE: 'token',
    ...security.variables,
    ...input.env,
  };
  return { variables, generatedOperatorToken: security.generatedOperatorToken };
}

const OPERATOR_TOKEN_HASH_FILE = 'rota-operator-token.sha256';
const SECRETS_KEY_FILE = 'rota-secrets.key';

/**
 * The operator token and the key that seals secrets in targets. Given ones win. A
 * generated token is kept in the data dir only as its SHA-256 (like every token), so it
 * is shown once; a generated secrets key must be kept whole, or sealed values could
 * not be opened after a restart. Without a data dir both live as long as the process.
 */
function localSecurity(input: LocalSettingsInput): {
  variables: Record<string, string>;
  generatedOperatorToken?: string;
} {
  const given = (name: string) => (input.env?.[name] ?? input.inherit?.[name] ?? '').trim() || undefined;
  const file = (name: string) => (input.dataDir ? join(input.dataDir, name) : undefined);
  // Local mode seals with its own key even when the shell names a KMS key.
  const variables: Record<string, string> = { ROTA_SECRETS_KMS_KEY_ARN: '', ROTA_SECRETS_KEY: secretsKey() };

  function secretsKey(): string {
    const keyFile = file(SECRETS_KEY_FILE);
    const key = given('ROTA_SECRETS_KEY');
    if (key) return key;
    if (keyFile && existsSync(keyFile)) return readFileSync(keyFile, 'utf8').trim();
    const generated = generateSecretsKey().toString('base64');
    if (keyFile) writeFileSync(keyFile, `${generated}\n`, { mode: 0o600 });
    return generated;
  }

  const token = given('ROTA_BOOTSTRAP_TOKEN');
  const hashFile = file(OPERATOR_TOKEN_HASH_FILE);
  if (token)
    return { variables: { ...variables, ROTA_BOOTSTRAP_TOKEN: token, ROTA_BOOTSTRAP_TOKEN_SHA256: '' } };
  if (hashFile && existsSync(hashFile)) {
    const hash = readFileSync(hashFile, 'utf8').trim();
    return { variables: { ...variables, ROTA_BOOTSTRAP_TOKEN: '', ROTA_BOOTSTRAP_TOKEN_SHA256: hash } };
  }
  const generated = generateOperatorToken();
  if (hashFile) writeFileSync(hashFile, `${sha256Hex(generated)}\n`, { mode: 0o600 });
  return {
    variables: { ...variables, ROTA_BOOTSTRAP_TOKEN: '', ROTA_BOOTSTRAP_TOKEN_SHA256: sha256Hex(generated) },
    generatedOperatorToken: generated,
  };
}
