import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { apiClient, TEST_OPERATOR_TOKEN } from '../support/auth';
import { dynamoClient, waitFor } from '../support/emulators';

/**
 * A secret sent back as `<redacted>` keeps the stored value only while the URL it is
 * sent to keeps its origin: a PATCH that moves a target, probe or endpoint elsewhere
 * must send its secrets again. And `<redacted>` never stands for a secret that was
 * never stored; a bad stored endpoint never breaks a list.
 */
describe('stored credentials stay with their origin', () => {
  const OP = TEST_OPERATOR_TOKEN;
  const ORG = 'org-origin';
  let rota: LocalRota;
  let api: ReturnType<typeof apiClient>;
  let server: Server;
  let port: number;
  const received: { path: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      received.push({ path: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"value":1}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    // Local mode's default policy (loopback open, localhost included): a shell value would replace it.
    delete process.env.ROTA_ALLOWED_TARGET_HOSTS;
    rota = await startLocal({ port: 0, workers: 2, env: { ROTA_BOOTSTRAP_TOKEN: OP } });
    api = apiClient(rota.url);
  });
  afterAll(async () => {
    await rota?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  // One machine, two origins: the same server as 127.0.0.1 and as localhost.
  const here = () => `http://127.0.0.1:${port}`;
  const elsewhere = () => `http://localhost:${port}`;
  const ORIGIN_CHANGED =
    /was sent as <redacted>, but the URL's origin changed from .* to .*: send the secret again in clear/;

  it('refuses a task created with a <redacted> credential header, for nothing is stored to keep', async () => {
    const created = await api(OP, 'POST', '/api/v2/tasks', {
      orgID: ORG,
      name: 'placeholder',
      // Active (an inactive task takes no manual run), yet due only on 29 February.
      cron: '0 0 29 2 *',
      target: { kind: 'http', url: `${here()}/hook`, headers: { 'X-Api-Key': '<redacted>' } },
    });
    expect(created.status, created.text).toBe(400);
    expect(created.body).toEqual({
      code: 'invalid',
      message:
        "target.headers.X-Api-Key: is <redacted>, but there is no stored value to keep; send the header's value itself",
    });
    const listed = await api(OP, 'GET', `/api/v2/tasks?orgID=${ORG}&name=placeholder`);
    expect(listed.body.tasks).toEqual([]);
  });

  it('refuses a task PATCH that moves a kept header to another origin, and takes it in clear', async () => {
    const created = await api(OP, 'POST', '/api/v2/tasks', {
      orgID: ORG,
      name: 't',
      // Active (an inactive task takes no manual run), yet due only on 29 February.
      cron: '0 0 29 2 *',
      target: {
        kind: 'http',
        url: `${here()}/hook`,
        method: 'POST',
        headers: { Authorization: 'Bearer task-secret-1', 'X-Trace': 'a' },
      },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;

    // Same origin, another path: the stored secret is kept.
    const samePlace = await api(OP, 'PATCH', `/api/v2/tasks/${id}`, {
      target: { ...created.body.target, url: `${here()}/other` },
    });
    expect(samePlace.status, samePlace.text).toBe(200);

    const moved = await api(OP, 'PATCH', `/api/v2/tasks/${id}`, {
      target: { ...created.body.target, url: `${elsewhere()}/hook` },
    });
    expect(moved.status, moved.text).toBe(400);
    expect(moved.body.code).toBe('invalid');
    expect(moved.body.message).toContain('target.headers.Authorization');
    expect(moved.body.message).toMatch(ORIGIN_CHANGED);
    expect((await api(OP, 'GET', `/api/v2/tasks/${id}`)).body.target.url).toBe(`${here()}/other`);

    const resent = await api(OP, 'PATCH', `/api/v2/tasks/${id}`, {
      target: {
        ...created.body.target,
        url: `${elsewhere()}/moved`,
        headers: { Authorization: 'Bearer task-secret-2', 'X-Trace': 'a' },
      },
    });
    expect(resent.status, resent.text).toBe(200);
    const run = await api(OP, 'POST', `/api/v2/tasks/${id}/runs`, {});
    await waitFor(() => received.find((r) => r.path === '/moved'), { timeoutMs: 20_000, what: 'the run' });
    expect(received.find((r) => r.path === '/moved')?.headers.authorization).toBe('Bearer task-secret-2');
    expect(run.status).toBe(201);
  });

  it('refuses a check PATCH that moves kept probe credentials to another origin', async () => {
    const created = await api(OP, 'POST', '/api/v2/checks', {
      orgID: ORG,
      name: 'c',
      type: 'threshold',
      every: '1h',
      status: 'inactive',
      probe: { url: `${here()}/metrics`, field: 'value', headers: { 'X-Api-Key': 'probe-secret-1' } },
      thresholds: [{ level: 'CRIT', type: 'greater', value: 5 }],
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;

    const moved = await api(OP, 'PATCH', `/api/v2/checks/${id}`, {
      probe: { ...created.body.probe, url: `${elsewhere()}/metrics` },
    });
    expect(moved.status, moved.text).toBe(400);
    expect(moved.body.message).toContain('probe.headers.X-Api-Key');
    expect(moved.body.message).toMatch(ORIGIN_CHANGED);

    const resent = await api(OP, 'PATCH', `/api/v2/checks/${id}`, {
      probe: {
        ...created.body.probe,
        url: `${elsewhere()}/metrics`,
        headers: { 'X-Api-Key': 'probe-secret-2' },
      },
    });
    expect(resent.status, resent.text).toBe(200);
  });

  const endpointCases = [
    {
      what: 'an http endpoint password',
      body: {
        type: 'http',
        url: `http://127.0.0.1:PORT/notify`,
        authMethod: 'basic',
        username: 'robot',
        password: 'endpoint-password',
      },
      field: 'password',
      resend: { password: 'endpoint-password-2' },
    },
    {
      what: 'an http endpoint bearer token',
      body: {
        type: 'http',
        url: `http://127.0.0.1:PORT/notify`,
        authMethod: 'bearer',
        token: 'endpoint-token',
      },
      field: 'token',
      resend: { token: 'endpoint-token-2' },
    },
    {
      what: 'an http endpoint secret header',
      body: {
        type: 'http',
        url: `http://127.0.0.1:PORT/notify`,
        headers: { 'X-Auth-Token': 'endpoint-header' },
      },
      field: 'headers.X-Auth-Token',
      resend: { headers: { 'X-Auth-Token': 'endpoint-header-2' } },
    },
    {
      what: 'a PagerDuty routing key',
      body: { type: 'pagerduty', url: `http://127.0.0.1:PORT/enqueue`, routingKey: 'routing-key-1' },
      field: 'routingKey',
      resend: { routingKey: 'routing-key-2' },
    },
  ];

  it.each(endpointCases)('refuses an endpoint PATCH that moves $what to another origin', async (c) => {
    const created = await api(OP, 'POST', '/api/v2/notificationEndpoints', {
      orgID: ORG,
      name: c.what,
      ...c.body,
      url: c.body.url.replace('PORT', String(port)),
    });
    expect(created.status, created.text).toBe(201);
    const path = `/api/v2/notificationEndpoints/${created.body.id}`;

    // Only the URL changes: the redacted secret would be kept, and sent to the new origin.
    const moved = await api(OP, 'PATCH', path, { url: `${elsewhere()}/notify` });
    expect(moved.status, moved.text).toBe(400);
    expect(moved.body.message).toContain(c.field);
    expect(moved.body.message).toMatch(ORIGIN_CHANGED);
    // Written back as read, secrets as <redacted>: the same.
    const { id: _id, createdAt: _c, updatedAt: _u, version: _v, links: _l, ...shown } = created.body;
    const explicit = await api(OP, 'PATCH', path, { ...shown, url: `${elsewhere()}/notify` });
    expect(explicit.status, explicit.text).toBe(400);
    expect(explicit.body.message).toMatch(ORIGIN_CHANGED);

    const samePlace = await api(OP, 'PATCH', path, { url: `${here()}/elsewhere-on-same-origin` });
    expect(samePlace.status, samePlace.text).toBe(200);
    const resent = await api(OP, 'PATCH', path, { url: `${elsewhere()}/notify`, ...c.resend });
    expect(resent.status, resent.text).toBe(200);
  });

  it('refuses a Slack webhook PATCH whose redacted URL names another origin', async () => {
    const created = await api(OP, 'POST', '/api/v2/notificationEndpoints', {
      orgID: ORG,
      name: 'slack',
      type: 'slack',
      url: `${here()}/services/T000/B000/slack-secret-path`,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.url).toBe(`${here()}/<redacted>`);
    const path = `/api/v2/notificationEndpoints/${created.body.id}`;

    const kept = await api(OP, 'PATCH', path, { name: 'renamed', url: created.body.url });
    expect(kept.status, kept.text).toBe(200);
    const moved = await api(OP, 'PATCH', path, { url: `${elsewhere()}/<redacted>` });
    expect(moved.status, moved.text).toBe(400);
    expect(moved.body.message).toMatch(/url: .*origin/);
    const resent = await api(OP, 'PATCH', path, { url: `${elsewhere()}/services/T000/B000/new-secret` });
    expect(resent.status, resent.text).toBe(200);
    expect(resent.body.url).toBe(`${elsewhere()}/<redacted>`);
  });

  it('refuses a Slack endpoint created with a redacted URL, and the list stays readable', async () => {
    const created = await api(OP, 'POST', '/api/v2/notificationEndpoints', {
      orgID: ORG,
      name: 'placeholder slack',
      type: 'slack',
      url: 'https://hooks.slack.com/<redacted>',
    });
    expect(created.status, created.text).toBe(400);
    expect(created.body.message).toMatch(/url: .*<redacted>.*only in a PATCH/);

    const list = await api(OP, 'GET', `/api/v2/notificationEndpoints?orgID=${ORG}`);
    expect(list.status, list.text).toBe(200);
  });

  it('lists an org whose table holds an unreadable endpoint, flagged so it can be deleted', async () => {
    // Prepare: the item an earlier release stored for a Slack endpoint created with `/<redacted>`.
    const id = '01j00000000000000000000bad';
    const client = dynamoClient(rota.env.ROTA_DYNAMODB_ENDPOINT ?? '');
    await client.send(
      new PutItemCommand({
        TableName: rota.env.ROTA_TABLE_NAME,
        Item: marshall({
          PK: `ENDPOINT#${id}`,
          SK: 'ENDPOINT',
          GSI1PK: `${ORG}#~endpoint`,
          GSI1SK: id,
          id,
          orgID: ORG,
          type: 'slack',
          name: 'broken',
          status: 'active',
          description: '',
          createdAt: '2026-01-01T00:00:00.000Z',
          updatedAt: '2026-01-01T00:00:00.000Z',
          version: 1,
        }),
      }),
    );
    client.destroy();

    // Act
    const list = await api(OP, 'GET', `/api/v2/notificationEndpoints?orgID=${ORG}`);
    const one = await api(OP, 'GET', `/api/v2/notificationEndpoints/${id}`);

    // Assess
    expect(list.status, list.text).toBe(200);
    const broken = list.body.notificationEndpoints.find((e: { id: string }) => e.id === id);
    expect(broken).toMatchObject({ id, name: 'broken', type: 'slack', unreadable: true });
    expect(list.body.notificationEndpoints.length).toBeGreaterThan(1);
    expect(one.status, one.text).toBe(200);
    expect(one.body.unreadable).toBe(true);
    expect((await api(OP, 'DELETE', `/api/v2/notificationEndpoints/${id}`)).status).toBe(204);
    expect((await api(OP, 'GET', `/api/v2/notificationEndpoints/${id}`)).status).toBe(404);
  });
});
