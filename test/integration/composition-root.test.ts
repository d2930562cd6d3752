import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AwsService,
  clientOptions,
  dynamoDbClient,
  type LazyClient,
  sqsClient,
} from '../../lib/composition/clients';
import { stores, targetPolicy } from '../../lib/composition/core';
import { awsTargets } from '../../lib/composition/engine';
import { eventBridgeClient } from '../../lib/composition/events';
import { createRota, type Part } from '../../lib/composition/root';
import { kmsClient, secretsManagerClient } from '../../lib/composition/secrets';
import { eventBridgeTargetClient, lambdaClient, snsClient } from '../../lib/composition/target-clients';
import { parseConfig } from '../../lib/config';
import type { TargetRunContext } from '../../lib/runners/http-target';
import { TEST_CLIENT_CONFIG } from '../support/emulators';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback stand-in for one AWS service: it records each request and answers as the service would. */
async function standIn(
  answer: (req: Received) => { type: string; body: string; headers?: Record<string, string> },
) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      received.push(request);
      const { type, body, headers } = answer(request);
      res.writeHead(200, { 'content-type': type, ...headers }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const run = {
  taskID: '0a1b2c3d4e5f6a7b',
  runID: '01HZX3T5J8Q4W2N6R9V7C0B1DE',
  scheduledFor: '2024-05-01T10:00:00Z',
  attempt: 1,
};
const context = (): TargetRunContext => ({
  run,
  signal: new AbortController().signal,
  timeoutMs: 5000,
  log: () => {},
});

/**
 * The composition root builds every client from its config object alone. The runners'
 * SNS, EventBridge and Lambda clients once ignored the endpoint settings and would have
 * gone to AWS from local mode and the tests; here each goes to the stand-in its setting
 * names, through the runners the executor uses.
 */
describe('the composition root', () => {
  let sns: Awaited<ReturnType<typeof standIn>>;
  let events: Awaited<ReturnType<typeof standIn>>;
  let lambda: Awaited<ReturnType<typeof standIn>>;

  beforeAll(async () => {
    sns = await standIn(() => ({
      type: 'text/xml',
      body: '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>sns-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>',
    }));
    events = await standIn(() => ({
      type: 'application/x-amz-json-1.1',
      body: JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: 'event-1' }] }),
    }));
    lambda = await standIn(() => ({
      type: 'application/json',
      body: '{"ok":true}',
      headers: { 'x-amz-executed-version': '$LATEST' },
    }));
  });
  afterAll(async () => {
    await Promise.all([sns, events, lambda].map((s) => s?.close()));
  });

  const rootWith = (variables: Record<string, string>) =>
    createRota(parseConfig({ ROTA_TABLE_NAME: 'rota-test', ...variables }), {
      credentials: TEST_CLIENT_CONFIG.credentials,
    });

  it('sends the SNS, EventBridge and Lambda targets to the endpoints its configuration names', async () => {
    const rota = rootWith({
      ROTA_SNS_ENDPOINT: sns.url,
      ROTA_EVENTBRIDGE_ENDPOINT: events.url,
      ROTA_LAMBDA_ENDPOINT: lambda.url,
    });
    const targets = rota.get(awsTargets);
    await targets.sns({ kind: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:reports' }, context());
    await targets.eventbridge(
      { kind: 'eventbridge', eventBusName: 'default', source: 'rota.test', detailType: 'run' },
      context(),
    );
    await targets.lambda(
      { kind: 'lambda', functionName: 'arn:aws:lambda:us-east-1:123456789012:function:report' },
      context(),
    );

    expect(sns.received).toHaveLength(1);
    const publish = new URLSearchParams(sns.received[0]?.body);
    expect(publish.get('Action')).toBe('Publish');
    expect(publish.get('TopicArn')).toBe('arn:aws:sns:us-east-1:123456789012:reports');
    expect(JSON.parse(publish.get('Message') ?? '{}')).toMatchObject({ runID: run.runID });

    expect(events.received).toHaveLength(1);
    expect(events.received[0]?.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    expect(JSON.parse(events.received[0]?.body ?? '{}').Entries[0]).toMatchObject({ Source: 'rota.test' });

    expect(lambda.received).toHaveLength(1);
    expect(lambda.received[0]?.path).toMatch(/^\/2015-03-31\/functions\/.+report\/invocations$/);
    expect(JSON.parse(lambda.received[0]?.body ?? '{}')).toMatchObject({ runID: run.runID });
  });

  it('points every client it builds at its service endpoint setting, and at AWS without one', async () => {
    type Client = { config: { endpoint?: () => Promise<unknown> } };
    // The clients built on first use (LazyClient) are awaited like the rest.
    const clients: [AwsService, string, Part<Client | LazyClient<Client>>][] = [
      ['dynamodb', 'ROTA_DYNAMODB_ENDPOINT', dynamoDbClient],
      ['sqs', 'ROTA_SQS_ENDPOINT', sqsClient],
      ['sns', 'ROTA_SNS_ENDPOINT', snsClient],
      ['eventbridge', 'ROTA_EVENTBRIDGE_ENDPOINT', eventBridgeClient],
      ['eventbridge', 'ROTA_EVENTBRIDGE_ENDPOINT', eventBridgeTargetClient],
      ['lambda', 'ROTA_LAMBDA_ENDPOINT', lambdaClient],
      ['kms', 'ROTA_KMS_ENDPOINT', kmsClient],
      ['secretsmanager', 'ROTA_SECRETSMANAGER_ENDPOINT', secretsManagerClient],
    ];
    const built = async (client: Client | LazyClient<Client>) =>
      typeof client === 'function' ? client() : client;
    const settings = [...new Set(clients.map(([, setting]) => setting))];
    const portOf = (setting: string) => 40_001 + settings.indexOf(setting);
    const configured = rootWith(
      Object.fromEntries(settings.map((setting) => [setting, `http://127.0.0.1:${portOf(setting)}`])),
    );
    const plain = rootWith({});
    for (const [service, setting, part] of clients) {
      const endpoint = (await (await built(configured.get(part))).config.endpoint?.()) as {
        hostname: string;
        port?: number;
      };
      expect({ service, hostname: endpoint.hostname, port: endpoint.port }).toEqual({
        service,
        hostname: '127.0.0.1',
        port: portOf(setting),
      });
      expect(clientOptions(plain, service)).not.toHaveProperty('endpoint');
      expect(clientOptions(plain, service).region).toBe('us-east-1');
    }
  });

  it('builds each part once per root, and nothing is shared between roots', () => {
    const one = rootWith({ ROTA_ALLOWED_TARGET_HOSTS: 'metrics.internal' });
    const other = rootWith({});
    expect(one.get(stores)).toBe(one.get(stores));
    expect(one.get(dynamoDbClient)).toBe(one.get(dynamoDbClient));
    expect(other.get(stores)).not.toBe(one.get(stores));
    expect(one.get(targetPolicy).allowedHosts).toEqual(['metrics.internal']);
    expect(other.get(targetPolicy).allowedHosts).toEqual([]);
  });

  it('names the missing setting when a part needs one the configuration lacks', () => {
    const rota = createRota(parseConfig({}));
    expect(() => rota.get(stores)).toThrow(/ROTA_TABLE_NAME: required/);
  });
});
