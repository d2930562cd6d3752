import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { waitFor } from '../support/emulators';

const TOKEN = 'test-operator-token';

/** A loopback server: `/metrics` answers the current value, `/notify` records what it receives. */
function startLoopback() {
  const state = {
    cpu: 95,
    probeAuth: undefined as string | undefined,
    received: [] as { path: string; headers: Record<string, unknown>; body: unknown }[],
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/metrics') {
        state.probeAuth = req.headers.authorization;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ host: { cpu: state.cpu } }));
        return;
      }
      const text = Buffer.concat(chunks).toString();
      state.received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      });
      res.writeHead(202).end();
    });
  });
  return new Promise<{ url: string; state: typeof state; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        state,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    }),
  );
}

describe('checks and notification rules in local mode', () => {
  let rota: LocalRota;
  let loop: Awaited<ReturnType<typeof startLoopback>>;
  const orgID = 'monitoring-org';

  type Json = Record<string, unknown> & { id: string };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rota.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Token ${TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
  };
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  /** Runs a check or rule now and waits for the run to finish. */
  const runNow = async (base: string, id: string) => {
    const run = await ok('POST', `${base}/${id}/runs`, {});
    return waitFor(
      async () => {
        const current = await ok('GET', `${base}/${id}/runs/${run.id}`);
        return ['success', 'failed'].includes(String(current.status)) ? current : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: `run of ${base}/${id}` },
    );
  };
  const notifications = () => loop.state.received.filter((r) => r.path === '/notify');
  /** The stored item as DynamoDB holds it, to prove what is at rest. */
  const rawItem = async (pk: string, sk: string) => {
    const client = new DynamoDBClient({
      endpoint: rota.env.ROTA_DYNAMODB_ENDPOINT,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const out = await client.send(
      new GetItemCommand({ TableName: 'rota', Key: { PK: { S: pk }, SK: { S: sk } } }),
    );
    client.destroy();
    return out.Item;
  };

  beforeAll(async () => {
    loop = await startLoopback();
    rota = await startLocal({ port: 0, env: { ROTA_BOOTSTRAP_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await rota?.stop();
    await loop?.close();
  });

  it('probes, writes CRIT, notifies once, then OK fires the CRIT→OK rule once', async () => {
    const endpoint = await ok('POST', '/api/v2/notificationEndpoints', {
      orgID,
      name: 'pager',
      type: 'http',
      url: `${loop.url}/notify`,
      authMethod: 'bearer',
      token: 's3cr3t-bearer',
    });
    expect(endpoint.token).toBe('<redacted>');

    const check = await ok('POST', '/api/v2/checks', {
      orgID,
      name: 'api cpu',
      type: 'threshold',
      every: '1h',
      probe: {
        url: `${loop.url}/metrics`,
        field: 'host.cpu',
        timeout: '2s',
        headers: { Authorization: 'Bearer probe-s3cr3t' },
      },
      thresholds: [
        { level: 'CRIT', type: 'greater', value: 90 },
        { level: 'WARN', type: 'range', min: 70, max: 90 },
      ],
      statusMessageTemplate: '${check.name} is ${level} at ${value}%',
      tags: { service: 'api' },
    });
    const onCrit = await ok('POST', '/api/v2/notificationRules', {
      orgID,
      name: 'page on crit',
      every: '1h',
      endpointID: endpoint.id,
      statusRules: [{ currentLevel: 'CRIT' }],
      tagRules: [{ key: 'service', value: 'api', operator: 'equal' }],
      messageTemplate: '${check.name}: ${message}',
    });
    const onRecovery = await ok('POST', '/api/v2/notificationRules', {
      orgID,
      name: 'recovered',
      every: '1h',
      endpointID: endpoint.id,
      statusRules: [{ currentLevel: 'OK', previousLevel: 'CRIT' }],
    });
    const otherTeam = await ok('POST', '/api/v2/notificationRules', {
      orgID,
      name: 'other team',
      every: '1h',
      endpointID: endpoint.id,
      statusRules: [{ currentLevel: 'CRIT' }],
      tagRules: [{ key: 'service', value: 'billing', operator: 'equal' }],
    });

    // Credentials are redacted on read and sealed at rest.
    expect((check.probe as { headers: Record<string, string> }).headers.Authorization).toBe('<redacted>');
    const raw = JSON.stringify([
      await rawItem(`ENDPOINT#${endpoint.id}`, 'ENDPOINT'),
      await rawItem(`TASK#${check.id}`, 'TASK'),
    ]);
    expect(raw).not.toContain('s3cr3t-bearer');
    expect(raw).not.toContain('probe-s3cr3t');
    expect(raw).toContain('rota-sealed:1:');

    // 1. Over the CRIT threshold: a CRIT status.
    expect((await runNow('/api/v2/checks', check.id)).status).toBe('success');
    const statuses = (await ok('GET', `/api/v2/checks/${check.id}/statuses`)).statuses as Json[];
    expect(loop.state.probeAuth).toBe('Bearer probe-s3cr3t');
    expect(statuses[0]).toMatchObject({
      level: 'CRIT',
      value: 95,
      message: 'api cpu is CRIT at 95%',
      tags: { service: 'api' },
    });

    // 2. The CRIT rule sends exactly one notification, in http JSON, with the bearer token.
    await runNow('/api/v2/notificationRules', onCrit.id);
    await runNow('/api/v2/notificationRules', onCrit.id);
    await runNow('/api/v2/notificationRules', otherTeam.id);
    expect(notifications()).toHaveLength(1);
    expect(notifications()[0]).toMatchObject({
      headers: { authorization: 'Bearer s3cr3t-bearer' },
      body: {
        level: 'CRIT',
        checkID: check.id,
        message: 'api cpu: api cpu is CRIT at 95%',
        ruleID: onCrit.id,
      },
    });
    const log = (await ok('GET', `/api/v2/notificationRules/${onCrit.id}/log`)).log as Json[];
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      outcome: 'sent',
      httpStatus: 202,
      checkID: check.id,
      level: 'CRIT',
      endpointID: endpoint.id,
    });

    // 3. Lowering the value gives OK (previous CRIT); the recovery rule fires once.
    loop.state.cpu = 12;
    await runNow('/api/v2/checks', check.id);
    await runNow('/api/v2/checks', check.id);
    const latest = (await ok('GET', `/api/v2/checks/${check.id}/statuses?limit=2`)).statuses as Json[];
    expect(latest.map((s) => [s.level, s.previousLevel])).toEqual([
      ['OK', 'OK'],
      ['OK', 'CRIT'],
    ]);
    await runNow('/api/v2/notificationRules', onRecovery.id);
    await runNow('/api/v2/notificationRules', onRecovery.id);
    await runNow('/api/v2/notificationRules', onCrit.id);
    expect(notifications().map((n) => (n.body as Json).level)).toEqual(['CRIT', 'OK']);

    // Check runs use the same runs API as tasks.
    const runs = (await ok('GET', `/api/v2/checks/${check.id}/runs`)).runs as Json[];
    expect(runs.length).toBe(3);
    expect(runs.every((r) => r.status === 'success')).toBe(true);
  });

  it('records a failing probe in the status without failing the run', async () => {
    const check = await ok('POST', '/api/v2/checks', {
      orgID,
      name: 'dead service',
      type: 'threshold',
      every: '1h',
      probe: { url: `${loop.url.replace(/:\d+$/, ':9')}/metrics`, field: 'host.cpu', timeout: '1s' },
      thresholds: [{ level: 'CRIT', type: 'greater', value: 90 }],
    });
    expect((await runNow('/api/v2/checks', check.id)).status).toBe('success');
    const [status] = (await ok('GET', `/api/v2/checks/${check.id}/statuses`)).statuses as Json[];
    expect(status).toMatchObject({ level: 'UNKNOWN', error: expect.stringMatching(/probe failed/) });
  });

  it('runs a scheduled deadman check that goes CRIT when the probe stops succeeding', async () => {
    const check = await ok('POST', '/api/v2/checks', {
      orgID,
      name: 'heartbeat',
      type: 'deadman',
      every: '1s',
      timeSince: '1s',
      probe: { url: `${loop.url.replace(/:\d+$/, ':9')}/metrics`, timeout: '1s' },
    });
    const crit = await waitFor(
      async () => {
        const list = (await ok('GET', `/api/v2/checks/${check.id}/statuses`)).statuses as Json[];
        return list.find((s) => s.level === 'CRIT');
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'a CRIT deadman status' },
    );
    expect(crit.message).toBe('heartbeat is CRIT');
    await ok('PATCH', `/api/v2/checks/${check.id}`, { status: 'inactive' });
  });

  it('checks and rules take jitter, startAt and endAt as tasks do; the item keeps them in offset', async () => {
    const extras = { jitter: '10m', startAt: '2027-01-01T00:00:00Z', endAt: '2027-06-01T00:00:00Z' };
    const check = await ok('POST', '/api/v2/checks', {
      orgID,
      name: 'bounded check',
      type: 'threshold',
      every: '1h',
      offset: '5m',
      ...extras,
      probe: { url: `${loop.url}/metrics` },
      thresholds: [{ level: 'WARN', type: 'lesser', value: 1 }],
    });
    expect(check).toMatchObject({ offset: '5m', ...extras });
    expect(await ok('GET', `/api/v2/checks/${check.id}`)).toMatchObject(extras);
    // The due index projects offset, so the scheduler reads the extras there; no new attribute.
    const item = await rawItem(`TASK#${check.id}`, 'TASK');
    expect(item?.offset?.S).toBe('5m jitter=10m startAt=2027-01-01T00:00:00Z endAt=2027-06-01T00:00:00Z');
    expect(item?.jitter).toBeUndefined();
    const tooLong = await call('PATCH', `/api/v2/checks/${check.id}`, { jitter: '2h' });
    expect(tooLong.status).toBe(400);
    expect(String(tooLong.body.message)).toContain('jitter: jitter must be at most the every interval');
    const cleared = await ok('PATCH', `/api/v2/checks/${check.id}`, { jitter: null, startAt: null });
    expect(cleared).toMatchObject({ endAt: extras.endAt, offset: '5m' });
    expect(cleared.jitter).toBeUndefined();
    expect(cleared.startAt).toBeUndefined();

    const endpoint = await ok('POST', '/api/v2/notificationEndpoints', {
      orgID,
      name: 'bounded hook',
      type: 'http',
      url: `${loop.url}/notify`,
    });
    const rule = await ok('POST', '/api/v2/notificationRules', {
      orgID,
      name: 'bounded rule',
      every: '1h',
      ...extras,
      endpointID: endpoint.id,
      statusRules: [{ currentLevel: 'CRIT' }],
    });
    expect(rule).toMatchObject(extras);
    const bad = await call('PATCH', `/api/v2/notificationRules/${rule.id}`, {
      endAt: '2026-01-01T00:00:00Z',
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body.message)).toContain('endAt: endAt must be after startAt');
    const ruleCleared = await ok('PATCH', `/api/v2/notificationRules/${rule.id}`, { endAt: null });
    expect(ruleCleared.endAt).toBeUndefined();
    expect(ruleCleared).toMatchObject({ jitter: '10m', startAt: extras.startAt });
  });

  it('keeps systems isolated and refuses bad input with {code, message}', async () => {
    const endpoint = await ok('POST', '/api/v2/notificationEndpoints', {
      orgID,
      name: 'slack',
      type: 'slack',
      url: `${loop.url}/services/T0/B0/xyz`,
    });
    expect(endpoint.url).toBe(`${loop.url}/<redacted>`);
    const check = await ok('POST', '/api/v2/checks', {
      orgID,
      name: 'iso',
      type: 'threshold',
      every: '1h',
      probe: { url: `${loop.url}/metrics` },
      thresholds: [{ level: 'WARN', type: 'lesser', value: 1 }],
    });
    const rule = await ok('POST', '/api/v2/notificationRules', {
      orgID,
      name: 'iso rule',
      every: '1h',
      endpointID: endpoint.id,
      statusRules: [{ currentLevel: 'WARN' }],
    });
    // Each system sees only its own type: the others answer 404.
    expect((await call('GET', `/api/v2/tasks/${check.id}`)).status).toBe(404);
    expect((await call('GET', `/api/v2/notificationRules/${check.id}`)).status).toBe(404);
    expect((await call('GET', `/api/v2/checks/${rule.id}`)).status).toBe(404);
    expect((await call('DELETE', `/api/v2/tasks/${rule.id}`)).status).toBe(404);

    // Deleting an endpoint that a rule uses is a conflict that names the rule.
    const conflict = await call('DELETE', `/api/v2/notificationEndpoints/${endpoint.id}`);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining(`iso rule (${rule.id})`),
    });

    const bad: [string, string, unknown, RegExp][] = [
      [
        '/api/v2/notificationRules',
        'unknown endpointID',
        { orgID, name: 'x', every: '1m', endpointID: 'nope', statusRules: [{ currentLevel: 'CRIT' }] },
        /unknown endpointID nope/,
      ],
      [
        '/api/v2/notificationRules',
        'no status rules',
        { orgID, name: 'x', every: '1m', endpointID: endpoint.id, statusRules: [] },
        /at least one status rule/,
      ],
      [
        '/api/v2/checks',
        'invalid threshold',
        {
          orgID,
          name: 'x',
          type: 'threshold',
          every: '1m',
          probe: { url: `${loop.url}/m` },
          thresholds: [{ level: 'CRIT', type: 'range', min: 9, max: 1 }],
        },
        /min must not be greater than max/,
      ],
      [
        '/api/v2/checks',
        'unknown level',
        {
          orgID,
          name: 'x',
          type: 'threshold',
          every: '1m',
          probe: { url: `${loop.url}/m` },
          thresholds: [{ level: 'PANIC', type: 'greater', value: 1 }],
        },
        /thresholds/,
      ],
      [
        '/api/v2/checks',
        'no thresholds',
        { orgID, name: 'x', type: 'threshold', every: '1m', probe: { url: `${loop.url}/m` }, thresholds: [] },
        /at least one threshold/,
      ],
      [
        '/api/v2/notificationEndpoints',
        'basic without password',
        { orgID, name: 'x', type: 'http', url: `${loop.url}/n`, authMethod: 'basic', username: 'u' },
        /username and password/,
      ],
    ];
    for (const [path, what, body, message] of bad) {
      const res = await call('POST', path, body);
      expect({ what, status: res.status, code: res.body.code }).toEqual({
        what,
        status: 400,
        code: 'invalid',
      });
      expect(String(res.body.message)).toMatch(message);
    }

    // Both lists name them; a rule can be paused, and goes with its runs when deleted.
    expect(((await ok('GET', `/api/v2/checks?orgID=${orgID}`)).checks as Json[]).map((c) => c.id)).toContain(
      check.id,
    );
    const rules = (await ok('GET', `/api/v2/notificationRules?orgID=${orgID}`)).notificationRules as Json[];
    expect(rules.map((r) => r.id)).toContain(rule.id);
    await runNow('/api/v2/notificationRules', rule.id);
    expect((await ok('PATCH', `/api/v2/notificationRules/${rule.id}`, { status: 'inactive' })).status).toBe(
      'inactive',
    );

    // Deleting the check removes its statuses with it; deleting the rule frees the endpoint.
    await runNow('/api/v2/checks', check.id);
    expect(((await ok('GET', `/api/v2/checks/${check.id}/statuses`)).statuses as Json[]).length).toBe(1);
    expect((await call('DELETE', `/api/v2/checks/${check.id}`)).status).toBe(204);
    expect((await call('GET', `/api/v2/checks/${check.id}/statuses`)).status).toBe(404);
    expect((await call('DELETE', `/api/v2/notificationRules/${rule.id}`)).status).toBe(204);
    expect((await call('GET', `/api/v2/notificationRules/${rule.id}/log`)).status).toBe(404);
    expect((await call('DELETE', `/api/v2/notificationEndpoints/${endpoint.id}`)).status).toBe(204);
  });
});
