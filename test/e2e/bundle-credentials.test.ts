import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, functionEntry } from '../../infra/bundling';
import { rotaFunctions } from '../../infra/function-specs';
import { SYSTEMS } from '../../lib/systems/registry';
import { type BundleHost, startBundleHost } from '../../local/bundles';
import { lambdaContext } from '../../local/lambda-context';
import type { SqsHandler } from '../../local/worker-pool';

/** A loopback stand-in for DynamoDB and SQS: it records each request's headers and answers `{}`. */
async function startRecordingEndpoint() {
  const requests: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The bundles resolve credentials from the environment alone, as on Lambda
 * (lib/aws/env-credentials.ts, aliased in infra/bundling.ts): the executor bundle, built
 * with the options the CDK assets are built with and run in local mode's bundle host,
 * signs its DynamoDB call with the environment's keys. AWS_PROFILE names a profile with
 * other keys: the SDK's default chain would sign with those (a profile wins over the
 * environment there), so the test tells the two apart.
 */
describe('a function bundle signs with the credentials in its environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rota-bundle-credentials-'));
  let endpoint: Awaited<ReturnType<typeof startRecordingEndpoint>>;
  let host: BundleHost;

  beforeAll(async () => {
    endpoint = await startRecordingEndpoint();
    const executor = rotaFunctions(SYSTEMS).find((f) => f.name === 'executor');
    if (!executor) throw new Error('no executor function');
    const outfile = join(dir, 'executor', 'index.mjs');
    await build(esbuildOptions(functionEntry(executor.entry()), outfile));
    const credentialsFile = join(dir, 'credentials');
    writeFileSync(
      credentialsFile,
      '[elsewhere]\naws_access_key_id = AKIAFROMAPROFILE\naws_secret_access_key = from-a-profile\n',
    );
    host = await startBundleHost(
      {
        AWS_ACCESS_KEY_ID: 'AKIAFROMTHEENVIRONMENT',
        AWS_SECRET_ACCESS_KEY: 'from-the-environment',
        AWS_SESSION_TOKEN: 'session-from-the-environment',
        AWS_PROFILE: 'elsewhere',
        AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
        AWS_CONFIG_FILE: join(dir, 'no-config'),
        AWS_REGION: 'us-east-1',
        ROTA_TABLE_NAME: 'rota-credentials',
        ROTA_RUNS_QUEUE_URL: `${endpoint.url}/000000000000/rota-runs`,
        ROTA_DYNAMODB_ENDPOINT: endpoint.url,
        ROTA_SQS_ENDPOINT: endpoint.url,
        ROTA_SECRETS_KMS_KEY_ARN:
          'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000',
        // Calls to a stand-in table are not calls the contract suite should judge.
        ROTA_AWS_CALL_LOG: '',
      },
      { executor: outfile },
    );
  }, 60_000);

  afterAll(async () => {
    await host?.stop();
    await endpoint?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('and not with a profile, which the default chain would prefer', async () => {
    const handler = (await host.load('executor')) as SqsHandler;
    const message = {
      taskID: 'no-such-task',
      runID: 'no-such-run',
      scheduledFor: new Date().toISOString(),
      kind: 'manual',
      attempt: 1,
      revision: 1,
      waits: 0,
    };
    const record = {
      messageId: 'm-1',
      receiptHandle: 'r-1',
      body: JSON.stringify(message),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs' as const,
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:rota-runs',
      awsRegion: 'us-east-1',
    };
    const result = await handler({ Records: [record] }, lambdaContext('rota-executor', 30_000));
    // A run of a task that does not exist is dropped, not retried.
    expect(result?.batchItemFailures ?? []).toEqual([]);

    expect(endpoint.requests.length).toBeGreaterThan(0);
    for (const headers of endpoint.requests) {
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIAFROMTHEENVIRONMENT\/\d{8}\/us-east-1\/(dynamodb|sqs)\/aws4_request, /,
      );
      expect(headers['x-amz-security-token']).toBe('session-from-the-environment');
    }
  });
});
