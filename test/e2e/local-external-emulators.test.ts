import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalEmulator } from '../../local/external-emulators';
import { LOCAL_TABLE, type LocalRota, startLocal } from '../../local/start';
import { dynamoClient, motoUrl, sqsClient, waitFor } from '../support/emulators';

const TOKEN = 'external-emulators-operator-token';

/** A loopback target that counts the runs that reach it. */
async function startTarget(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(String(req.headers['x-rota-run-id']));
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const api = (rota: LocalRota, path: string, init: RequestInit = {}) =>
  fetch(`${rota.url}${path}`, {
    ...init,
    headers: { authorization: `Token ${TOKEN}`, 'content-type': 'application/json' },
  });

describe('external endpoints are checked before local mode starts anything', () => {
  it('takes loopback origins, and another host only when the operator allows it', () => {
    expect(externalEmulator('dynamodb', 'http://127.0.0.1:8000/').endpoint).toBe('http://127.0.0.1:8000');
    expect(externalEmulator('sqs', 'http://localhost:4566').endpoint).toBe('http://localhost:4566');
    expect(externalEmulator('sqs', 'http://[::1]:4566').endpoint).toBe('http://[::1]:4566');
    expect(() => externalEmulator('dynamodb', 'http://dynamodb.example.test:8000')).toThrow(
      /--dynamodb-endpoint must be a loopback address .*--allow-remote-emulators/,
    );
    expect(
      externalEmulator('dynamodb', 'http://dynamodb.example.test:8000', { allowRemote: true }).endpoint,
    ).toBe('http://dynamodb.example.test:8000');
    expect(() => externalEmulator('sqs', 'ftp://127.0.0.1:21')).toThrow(/--sqs-endpoint must be an http/);
    expect(() => externalEmulator('sqs', 'not a url')).toThrow(/--sqs-endpoint must be an http/);
    expect(() => externalEmulator('sqs', 'http://user:pw@127.0.0.1:4566')).toThrow(/bare origin/);
    expect(() => externalEmulator('sqs', 'http://127.0.0.1:4566/queues')).toThrow(/bare origin/);
  });

  it('refuses a remote endpoint in startLocal with the flag named, and starts nothing', async () => {
    await expect(
      startLocal({
        port: 0,
        dynamodbEndpoint: 'http://dynamodb.example.test:8000',
        env: { ROTA_BOOTSTRAP_TOKEN: TOKEN },
      }),
    ).rejects.toThrow(/--dynamodb-endpoint must be a loopback address/);
  });
});

/**
 * moto_server plays the DynamoDB Local or LocalStack someone already runs: local mode
 * creates its table and queues there, runs a task through them, and a second start finds
 * them (and the task) again instead of creating them anew.
 */
describe.runIf(motoUrl())('local mode on external emulators (moto_server)', () => {
  const moto = motoUrl() ?? '';
  let target: Awaited<ReturnType<typeof startTarget>>;
  let rota: LocalRota | undefined;
  const start = () =>
    startLocal({
      port: 0,
      workers: 2,
      dynamodbEndpoint: moto,
      sqsEndpoint: moto,
      env: { ROTA_BOOTSTRAP_TOKEN: TOKEN },
    });

  beforeAll(async () => {
    // A fresh moto: the first start must create what the second one reuses.
    await fetch(`${moto}/moto-api/reset`, { method: 'POST' });
    target = await startTarget();
  });
  afterAll(async () => {
    await rota?.stop();
    await target?.close();
  });

  it('creates the table and queues, runs a task created through the API, and a second start reuses them', async () => {
    rota = await start();
    // The handlers reach moto's DynamoDB through local mode's write hook (ADR 0021), a
    // loopback proxy of its own; the table below is moto's.
    expect(rota.env.ROTA_DYNAMODB_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(rota.env.ROTA_DYNAMODB_ENDPOINT).not.toBe(moto);
    expect(rota.env.ROTA_SQS_ENDPOINT).toBe(moto);
    const dynamo = dynamoClient(moto);
    const sqs = sqsClient(moto);
    const table = (await dynamo.send(new DescribeTableCommand({ TableName: LOCAL_TABLE }))).Table;
    expect(table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(
      expect.arrayContaining(['byOrgType', 'due', 'open']),
    );
    const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: LOCAL_TABLE }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expiresAt',
    });
    const queues = (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'rota-runs' }))).QueueUrls ?? [];
    expect(queues.map((u) => u.split('/').at(-1)).sort()).toEqual(['rota-runs', 'rota-runs-dlq']);
    expect(rota.env.ROTA_RUNS_QUEUE_URL).toBe(queues.find((u) => u.endsWith('/rota-runs')));

    const created = await api(rota, '/api/v2/tasks', {
      method: 'POST',
      body: JSON.stringify({
        orgID: 'external-org',
        name: 'through moto',
        every: '1s',
        target: { kind: 'http', url: target.url, method: 'POST' },
      }),
    });
    expect(created.status).toBe(201);
    const task = (await created.json()) as { id: string };
    await waitFor(() => (target.hits.length > 0 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'a run of the task reaching its target through moto',
    });
    const runs = await waitFor(
      async () => {
        const res = await api(rota as LocalRota, `/api/v2/tasks/${task.id}/runs`);
        const body = (await res.json()) as { runs: { status: string }[] };
        return body.runs.some((r) => r.status === 'success') ? body.runs : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'a successful run recorded in moto' },
    );
    expect(runs.length).toBeGreaterThan(0);
    await rota.stop();
    rota = undefined;

    // The second start finds the same table (not re-created: same creation time, the task
    // still in it) and the same queues.
    rota = await start();
    const again = (await dynamo.send(new DescribeTableCommand({ TableName: LOCAL_TABLE }))).Table;
    expect(again?.CreationDateTime?.getTime()).toBe(table?.CreationDateTime?.getTime());
    const queuesAgain = (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'rota-runs' }))).QueueUrls;
    expect(queuesAgain?.sort()).toEqual(queues.sort());
    const kept = await api(rota, `/api/v2/tasks/${task.id}`);
    expect(kept.status).toBe(200);
    expect(((await kept.json()) as { name: string }).name).toBe('through moto');
    const hitsBefore = target.hits.length;
    await waitFor(() => (target.hits.length > hitsBefore ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the task running again after the second start',
    });
  }, 120_000);
});
