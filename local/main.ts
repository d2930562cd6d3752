import { parseArgs } from 'node:util';
import { startLocal } from './start';
import { describeLocalTargets } from './target-policy';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8080' },
    'data-dir': { type: 'string' },
    workers: { type: 'string', default: '10' },
    // Hosts targets may reach though private (comma-separated), or `none`; default: loopback.
    'allowed-target-hosts': { type: 'string' },
    // Run the bundles the CDK assets are built from instead of the TypeScript sources.
    bundles: { type: 'boolean', default: false },
    'shutdown-grace': { type: 'string', default: '10' },
  },
});
const graceSeconds = Number(values['shutdown-grace']);
if (!Number.isFinite(graceSeconds) || graceSeconds < 0) {
  console.error(`--shutdown-grace must be a number of seconds, got "${values['shutdown-grace']}"`);
  process.exit(2);
}

const rota = await startLocal({
  port: Number(values.port),
  dataDir: values['data-dir'],
  workers: Number(values.workers),
  allowedTargetHosts: values['allowed-target-hosts'],
  bundles: values.bundles,
  // The shell's Rota settings (ROTA_CLAIM_TTL_SECONDS, …) apply where local mode sets none.
  inherit: process.env,
});

const where = values['data-dir'] ? `in ${values['data-dir']}` : 'in memory';
console.log(
  `Rota is running at ${rota.url}${values.bundles ? ' from the bundles in dist/functions' : ''}  (pid ${process.pid}; DynamoDB: dynalite, SQS: fauxqs, ${where})`,
);
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
Try it:
  export TOKEN='<operator token>'
  curl -s -X POST ${rota.url}/api/v2/tasks -H "Authorization: Token $TOKEN" -H 'content-type: application/json' \\
    -d '{"orgID":"my-org","name":"ping","every":"1m","target":{"kind":"http","url":"http://127.0.0.1:9999/hook"}}'
  curl -s '${rota.url}/api/v2/tasks?orgID=my-org' -H "Authorization: Token $TOKEN"
  curl -s -X POST ${rota.url}/api/v2/authorizations -H "Authorization: Token $TOKEN" -H 'content-type: application/json' \\
    -d '{"orgID":"my-org","description":"my-org tasks","permissions":[{"action":"read","resource":{"type":"tasks"}},{"action":"write","resource":{"type":"tasks"}}]}'
`);

/**
 * The first SIGINT or SIGTERM stops gracefully: no new ticks, polls or requests, and the
 * runs in flight get the grace period to finish (what is left resumes after the next
 * start). A second signal exits at once. A repeat within half a second is the same
 * signal twice (a terminal's Ctrl-C reaches npm and node, and npm forwards it again).
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
