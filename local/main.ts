import { parseArgs } from 'node:util';
import { type LogFormat, setLogFormat } from '../lib/observability/logger';
import { ExternalEndpointError } from './external-emulators';
import { startLocal } from './start';
import { describeLocalTargets } from './target-policy';

const USAGE = `Usage: npm start -- [--port N] [--data-dir DIR] [--workers N] [--shutdown-grace S]
                    [--allowed-target-hosts H,H|none] [--log-format human|json] [--bundles]
                    [--dynamodb-endpoint URL] [--sqs-endpoint URL] [--allow-remote-emulators]
                    [--influx-url URL [--influx-token T] [--influx-org ORG]]
  (or npm start --port=N; the port comes from --port, else PORT, else 8080)`;

function fail(message: string): never {
  console.error(`Error: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseOptions>;
function parseOptions() {
  return parseArgs({
    // `npm start --port 18503` reaches here as the positional "18503" (npm keeps `--port`).
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      workers: { type: 'string', default: '10' },
      // Hosts targets may reach though private (comma-separated), or `none`; default: loopback.
      'allowed-target-hosts': { type: 'string' },
      // Run the bundles the CDK assets are built from instead of the TypeScript sources.
      bundles: { type: 'boolean', default: false },
      'shutdown-grace': { type: 'string', default: '10' },
      'log-format': { type: 'string', default: 'human' },
      // Emulators someone else runs (DynamoDB Local, LocalStack, moto_server) instead of
      // the embedded dynalite and fauxqs; loopback only unless --allow-remote-emulators.
      'dynamodb-endpoint': { type: 'string' },
      'sqs-endpoint': { type: 'string' },
      'allow-remote-emulators': { type: 'boolean', default: false },
      // The InfluxDB v2 API that Flux tasks without a target of their own run on.
      'influx-url': { type: 'string' },
      'influx-token': { type: 'string' },
      'influx-org': { type: 'string' },
    },
  });
}
try {
  parsed = parseOptions();
} catch (error) {
  fail((error as Error).message);
}
const { values, positionals } = parsed;

/**
 * `--port N` wins; `npm start --port=N` arrives as npm_config_port, and
 * `npm start --port N` as npm_config_port=true plus the positional N; then PORT.
 */
function chosenPort(): string {
  if (values.port !== undefined) return values.port;
  const npmPort = process.env.npm_config_port;
  if (npmPort === 'true' && positionals.length === 1) return positionals[0] ?? '';
  if (npmPort && npmPort !== 'true') return npmPort;
  return process.env.PORT || '8080';
}
const npmPortFlag = process.env.npm_config_port === 'true' && values.port === undefined;
if (positionals.length > (npmPortFlag ? 1 : 0)) fail(`unexpected argument "${positionals.join(' ')}"`);
const port = chosenPort();
if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
  fail(`--port must be a port number (0-65535), got "${port}"`);
const workers = Number(values.workers);
if (!Number.isInteger(workers) || workers < 0)
  fail(`--workers must be a whole number, got "${values.workers}"`);
const graceSeconds = Number(values['shutdown-grace']);
if (!Number.isFinite(graceSeconds) || graceSeconds < 0)
  fail(`--shutdown-grace must be a number of seconds, got "${values['shutdown-grace']}"`);
const logFormat = values['log-format'];
if (logFormat !== 'human' && logFormat !== 'json')
  fail(`--log-format must be human or json, got "${logFormat}"`);
// Every function shares this process's stdout: each line keeps the envelope that names its function.
setLogFormat(logFormat as LogFormat, { compactInfo: false });

/** `--influx-*` as the settings they stand for; a flag wins over the shell's variable. */
function influxSettings(): Record<string, string> {
  const url = values['influx-url'];
  if (url !== undefined && !URL.canParse(url))
    fail(`--influx-url must be an http or https URL, got "${url}"`);
  if (url === undefined && (values['influx-token'] ?? values['influx-org']) !== undefined) {
    fail('--influx-token and --influx-org need --influx-url');
  }
  const settings: Record<string, string | undefined> = {
    ROTA_INFLUX_URL: url,
    ROTA_INFLUX_TOKEN: values['influx-token'],
    ROTA_INFLUX_ORG: values['influx-org'],
  };
  return Object.fromEntries(
    Object.entries(settings).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

const rota = await startLocal({
  port: Number(port),
  dataDir: values['data-dir'],
  workers,
  allowedTargetHosts: values['allowed-target-hosts'],
  bundles: values.bundles,
  dynamodbEndpoint: values['dynamodb-endpoint'],
  sqsEndpoint: values['sqs-endpoint'],
  allowRemoteEmulators: values['allow-remote-emulators'],
  // The shell's Rota settings (ROTA_CLAIM_TTL_SECONDS, …) apply where local mode sets none.
  inherit: { ...process.env, ...influxSettings() },
}).catch((error: unknown) => {
  if (error instanceof ExternalEndpointError) fail(error.message);
  throw error;
});

/**
 * The first SIGINT or SIGTERM stops gracefully: no new ticks, polls or requests, and the
 * runs in flight get the grace period to finish (what is left resumes after the next
 * start). A second signal exits at once. A repeat within half a second is the same
 * signal twice (a terminal's Ctrl-C reaches npm and node, and npm forwards it again).
 * Installed before the banner: whoever reads it may signal at once.
 */
let stoppingSince: number | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  if (stoppingSince !== undefined) {
    if (Date.now() - stoppingSince < 500) return;
    console.log(`${signal} again: exiting now; runs in flight resume after the next start.`);
    process.exit(130);
  }
  stoppingSince = Date.now();
  console.log(
    `${signal}: stopping; ${rota.inFlight()} run batch(es) in flight get up to ${graceSeconds} s to finish (signal again to exit now).`,
  );
  void rota.stop(graceSeconds * 1000).then(
    (drained) => {
      console.log(drained ? 'Rota stopped.' : 'Rota stopped; unfinished runs resume after the next start.');
      process.exit(0);
    },
    (error: unknown) => {
      console.error('Rota could not stop cleanly:', error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const where = values['data-dir'] ? `in ${values['data-dir']}` : 'in memory';
const dynamoName = values['dynamodb-endpoint']
  ? `DynamoDB: ${rota.env.ROTA_DYNAMODB_ENDPOINT}`
  : 'DynamoDB: dynalite';
const sqsName = values['sqs-endpoint'] ? `SQS: ${rota.env.ROTA_SQS_ENDPOINT}` : 'SQS: fauxqs';
console.log(
  `Rota is running at ${rota.url}${values.bundles ? ' from the bundles in dist/functions' : ''}  (pid ${process.pid}; ${dynamoName}, ${sqsName}, ${where})`,
);
console.log(`Console: ${rota.url}/  (enter the operator token and an org)`);
for (const line of describeLocalTargets(rota.env)) console.log(line);
const token = rota.generatedOperatorToken;
if (token) {
  console.log(`
Operator token (shown only now; Rota keeps just its hash${values['data-dir'] ? ` in ${values['data-dir']}` : ''}):
  ${token}
Set ROTA_BOOTSTRAP_TOKEN to choose your own.`);
} else {
  console.log('Operator token: ROTA_BOOTSTRAP_TOKEN, or the one printed when this data dir was created.');
}
console.log(`
Try it: in another terminal, a local target that answers every call, and a task that calls it
  node -e "require('http').createServer((q,s)=>s.end('ok')).listen(9999,'127.0.0.1')" &
  export ROTA_HOST=${rota.url} ROTA_TOKEN='<operator token>'
  npx rota task create --org my-org --name ping --every 10s --url http://127.0.0.1:9999/hook
  npx rota task list --org my-org
  # an org token, for a caller that should see only my-org's tasks:
  curl -s -X POST ${rota.url}/api/v2/authorizations -H "Authorization: Token $ROTA_TOKEN" -H 'content-type: application/json' \\
    -d '{"orgID":"my-org","description":"my-org tasks","permissions":[{"action":"read","resource":{"type":"tasks"}},{"action":"write","resource":{"type":"tasks"}}]}'
Logs: one line per run and per task change (--log-format json for JSON; POWERTOOLS_LOG_LEVEL=DEBUG for every tick).
`);
