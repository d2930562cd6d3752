import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/systems/api-docs';
import { SYSTEMS } from '../../lib/systems/registry';
import { startBundleHost } from '../../local/bundles';
import { lambdaContext } from '../../local/lambda-context';
import { type LocalRota, startLocal } from '../../local/start';
import { apiClient, createToken, TEST_OPERATOR_TOKEN } from '../support/auth';
import { waitFor } from '../support/emulators';

/** A loopback server: `/metrics` answers a CPU figure, every other path records what it receives. */
async function startLoopback() {
  const received: { path: string; headers: Record<string, unknown>; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cpu: 97 }));
        return;
      }
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The deployed artifact is the tested artifact: local mode runs every function from the
 * esbuild bundles the CDK assets are built from (scripts/bundle.ts, the options of
 * infra/bundling.ts; test/infra proves they are byte for byte the assets). A bundle
 * that fails to load (ESM/CJS interop, a dynamic import, a missing external) fails
 * startLocal, and so this suite; each step below runs code only its bundle holds.
 */
describe('local mode on the function bundles', () => {
  const OP = TEST_OPERATOR_TOKEN;
  let rota: LocalRota;
  let api: ReturnType<typeof apiClient>;
  let loop: Awaited<ReturnType<typeof startLoopback>>;

  beforeAll(async () => {
    loop = await startLoopback();
    rota = await startLocal({ port: 0, workers: 2, bundles: true, env: { ROTA_BOOTSTRAP_TOKEN: OP } });
    api = apiClient(rota.url);
  }, 120_000);
  afterAll(async () => {
    await rota?.stop();
    await loop?.close();
  });

  it('serves the public documents and the console, and refuses a caller without a token (meta-api, authorizer)', async () => {
    expect((await api(undefined, 'GET', '/health')).body).toEqual({ status: 'pass' });
    // The document the build wrote beside the bundle: the one the sources generate.
    const openapi = await api(undefined, 'GET', '/api/v2/openapi.json');
    expect(openapi.body.openapi).toMatch(/^3\./);
    expect(openapi.body).toEqual(openApiDocument(SYSTEMS));
    // The web console, from the copy beside the meta-api bundle.
    const page = await fetch(`${rota.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<title>Rota console</title>');
    const refused = await api(undefined, 'GET', '/api/v2/tasks?orgID=bundle-org');
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      code: 'unauthorized',
      message: 'no Authorization header: send "Authorization: Token <token>"',
    });
  });

  it('issues an org token that creates a task which then runs on schedule and by hand (authorizations-api, tasks-api, scheduler, executor)', async () => {
    const org = await createToken(rota.url, OP, 'bundle-org', { tasks: ['read', 'write'] });
    const created = await api(org.token, 'POST', '/api/v2/tasks', {
      name: 'every second',
      every: '1s',
      target: {
        kind: 'http',
        url: `${loop.url}/hook`,
        method: 'POST',
        headers: { Authorization: 'Bearer bundle-secret' },
      },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ orgID: 'bundle-org', type: 'basic' });
    expect(created.body.target.headers.Authorization).toBe('<redacted>');

    // The scheduler's tick enqueues it, the executor opens the sealed header and calls it.
    const hit = await waitFor(
      () => loop.received.find((r) => r.path === '/hook' && r.headers['x-rota-task-id'] === created.body.id),
      { timeoutMs: 20_000, what: 'a scheduled run to call the target' },
    );
    expect(hit.headers.authorization).toBe('Bearer bundle-secret');

    const manual = await api(org.token, 'POST', `/api/v2/tasks/${created.body.id}/runs`, {});
    expect(manual.status).toBe(201);
    const finished = await waitFor(
      async () => {
        const run = await api(org.token, 'GET', `/api/v2/tasks/${created.body.id}/runs/${manual.body.id}`);
        return run.body.status === 'success' ? run.body : undefined;
      },
      { timeoutMs: 20_000, what: 'the manual run to succeed' },
    );
    expect(finished.finishedAt).toBeDefined();
    expect(
      (await api(org.token, 'PATCH', `/api/v2/tasks/${created.body.id}`, { status: 'inactive' })).status,
    ).toBe(200);
  });

  it('runs a check and a notification rule end to end (checks-api, notification-endpoints-api, notification-rules-api)', async () => {
    const orgID = 'bundle-monitoring';
    const ok = async (method: string, path: string, body?: unknown) => {
      const res = await api(OP, method, path, body);
      expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
      return res.body;
    };
    const runNow = async (base: string, id: string) => {
      const run = await ok('POST', `${base}/${id}/runs`, {});
      return waitFor(
        async () => {
          const current = await ok('GET', `${base}/${id}/runs/${run.id}`);
          return ['success', 'failed'].includes(current.status) ? current : undefined;
        },
        { timeoutMs: 20_000, what: `${base} run to finish` },
      );
    };
    const endpoint = await ok('POST', '/api/v2/notificationEndpoints', {
      orgID,
      name: 'pager',
      type: 'http',
      url: `${loop.url}/notify`,
      authMethod: 'bearer',
      token: 'bundle-bearer',
    });
    const check = await ok('POST', '/api/v2/checks', {
      orgID,
      name: 'cpu',
      type: 'threshold',
      every: '1h',
      probe: { url: `${loop.url}/metrics`, field: 'cpu' },
      thresholds: [{ level: 'CRIT', type: 'greater', value: 90 }],
    });
    const rule = await ok('POST', '/api/v2/notificationRules', {
      orgID,
      name: 'page on crit',
      every: '1h',
      endpointID: endpoint.id,
      statusRules: [{ currentLevel: 'CRIT' }],
    });

    expect((await runNow('/api/v2/checks', check.id)).status).toBe('success');
    expect((await ok('GET', `/api/v2/checks/${check.id}/statuses`)).statuses[0]).toMatchObject({
      level: 'CRIT',
      value: 97,
    });
    // The rule reads the org's statuses (byOrgType), opens the endpoint's token and sends.
    expect((await runNow('/api/v2/notificationRules', rule.id)).status).toBe('success');
    const sent = loop.received.filter((r) => r.path === '/notify');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers.authorization).toBe('Bearer bundle-bearer');
    expect(JSON.parse(sent[0]?.body ?? '{}')).toMatchObject({ level: 'CRIT', checkID: check.id });
  });
});

/**
 * The bundles run in a worker thread whose environment is local mode's settings: this
 * process's environment is never written. A bundle that throws at module load, or that
 * exports no handler, fails the start by name.
 */
describe('the bundle host', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rota-bundle-host-'));
    writeFileSync(
      join(dir, 'env.mjs'),
      'const table = process.env.ROTA_TABLE_NAME;\nexport const handler = async (event, context) => ({ table, event, fn: context.functionName, left: context.getRemainingTimeInMillis() });\n',
    );
    writeFileSync(
      join(dir, 'throws.mjs'),
      "throw new Error('cold start failed: ROTA_TABLE_NAME: Invalid input');\n",
    );
    writeFileSync(join(dir, 'none.mjs'), 'export const notAHandler = 1;\n');
    writeFileSync(
      join(dir, 'crash.mjs'),
      "export const handler = () => new Promise(() => setTimeout(() => { throw new Error('worker crashed'); }, 10));\n",
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives each bundle its settings as its own process.env, and leaves this process alone', async () => {
    const before = { ...process.env };
    const host = await startBundleHost({ ROTA_TABLE_NAME: 'bundle-table' }, { env: join(dir, 'env.mjs') });
    try {
      const handler = (await host.load('env')) as (event: unknown, context: unknown) => Promise<unknown>;
      const out = (await handler({ ping: 1 }, lambdaContext('rota-env', 5000))) as Record<string, unknown>;
      expect(out).toMatchObject({ table: 'bundle-table', event: { ping: 1 }, fn: 'rota-env' });
      expect(out.left).toBeGreaterThan(0);
      expect(out.left).toBeLessThanOrEqual(5000);
      expect(process.env).toEqual(before);
      await expect(host.load('missing')).rejects.toThrow(/no bundle for missing/);
    } finally {
      await host.stop();
    }
  });

  it('fails the call in flight, and every later one, when the worker dies', async () => {
    const host = await startBundleHost({}, { crash: join(dir, 'crash.mjs') });
    try {
      const handler = (await host.load('crash')) as (event: unknown, context: unknown) => Promise<unknown>;
      await expect(handler({}, lambdaContext('rota-crash', 5000))).rejects.toThrow(/worker crashed/);
      await expect(handler({}, lambdaContext('rota-crash', 5000))).rejects.toThrow(/worker crashed/);
    } finally {
      await host.stop();
    }
  });

  it.each([
    ['throws', /the broken bundle failed to load: Error: cold start failed: ROTA_TABLE_NAME/],
    ['none', /the broken bundle failed to load: .*exports no handler/],
  ])('fails the start when a bundle %s at load, naming it', async (file, message) => {
    await expect(
      startBundleHost({}, { env: join(dir, 'env.mjs'), broken: join(dir, `${file}.mjs`) }),
    ).rejects.toThrow(message);
  });
});
