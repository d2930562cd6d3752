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
  },
});

const rota = await startLocal({
  port: Number(values.port),
  dataDir: values['data-dir'],
  workers: Number(values.workers),
  allowedTargetHosts: values['allowed-target-hosts'],
  bundles: values.bundles,
});

console.log(
  `Rota is running at ${rota.url}${values.bundles ? ' from the bundles in dist/functions' : ''}  (DynamoDB: dynalite ${values['data-dir'] ? `in ${values['data-dir']}` : 'in memory'}, SQS: fauxqs)`,
);
// startLocal put its environment into process.env, beside the shell's own.
for (const line of describeLocalTargets(process.env)) console.log(line);
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

const shutdown = async () => {
  await rota.stop();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
