import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRota } from '../../local/start';
import { apiClient, createToken, TEST_OPERATOR_TOKEN } from '../support/auth';
import { dynamoClient, waitFor } from '../support/emulators';

/**
 * Credentials in targets reach the target and nothing else: not an API response, not
 * a run log, not a structured log line, and not the table in clear text.
 */
describe('secrets in targets', () => {
  const OP = TEST_OPERATOR_TOKEN;
  const tag = randomBytes(6).toString('hex');
  const bearer = `sk-live-${tag}-bearer`;
  const apiKey = `key-${tag}-apikey`;
  const password = `pw-${tag}-url`;
  const basic = Buffer.from(`robot:${password}`).toString('base64');
  const secrets = [bearer, apiKey, password, basic];

  let rota: LocalRota;
  let api: ReturnType<typeof apiClient>;
  let server: Server;
  let port: number;
  let orgToken: string;
  const received: { path: string; headers: IncomingHttpHeaders }[] = [];
  const output: string[] = [];

  beforeAll(async () => {
    // Every structured log line, at the most verbose level, goes through these streams.
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation(((
        chunk: string | Uint8Array,
        encodingOrDone?: unknown,
        done?: unknown,
      ) => {
        output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        // Writers may wait for the write to complete; a swallowed callback would stall them.
        const callback = typeof encodingOrDone === 'function' ? encodingOrDone : done;
        if (typeof callback === 'function') queueMicrotask(() => callback());
        return true;
      }) as typeof stream.write);
    }
    // The logger reads its level once, when it is created, and returns to it after every
    // invocation: so the level is set before local mode (and the logger) load.
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    const { startLocal } = await import('../../local/start');

    // A target that echoes what it was sent, the way a debugging endpoint would.
    server = createServer((req, res) => {
      received.push({ path: req.url ?? '', headers: req.headers });
      res.writeHead(req.url?.startsWith('/fail') ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ youSent: req.headers }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    rota = await startLocal({ port: 0, workers: 2, env: { ROTA_BOOTSTRAP_TOKEN: OP } });
    api = apiClient(rota.url);
    orgToken = (await createToken(rota.url, OP, 'org-s', { tasks: ['read', 'write'] })).token;
  });
  afterAll(async () => {
    await rota?.stop();
    await new Promise((resolve) => server?.close(resolve));
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  const expectNoSecret = (text: string, where: string) => {
    for (const secret of secrets) expect(text.includes(secret), `${where} contains a secret`).toBe(false);
  };

  const runAndWait = async (taskID: string) => {
    const run = await api(orgToken, 'POST', `/api/v2/tasks/${taskID}/runs`, {});
    expectNoSecret(run.text, 'manual run response');
    return waitFor(
      async () => {
        const current = await api(orgToken, 'GET', `/api/v2/tasks/${taskID}/runs/${run.body.id}`);
        return ['success', 'failed'].includes(current.body.status) ? current : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the run to finish' },
    );
  };

  it('are redacted in every response, sealed at rest, and sent to the target in clear', async () => {
    const created = await api(orgToken, 'POST', '/api/v2/tasks', {
      name: 'with-secrets',
      // Active, so the scheduler logs the task (with its sealed headers) every tick.
      every: '2s',
      target: {
        kind: 'http',
        url: `http://robot:${password}@127.0.0.1:${port}/hook`,
        method: 'POST',
        headers: { Authorization: `Bearer ${bearer}`, 'X-Api-Key': apiKey, 'X-Trace': 'visible' },
        body: { hello: 'world' },
      },
    });
    expect(created.status, created.text).toBe(201);
    expectNoSecret(created.text, 'create response');
    expect(created.body.target).toMatchObject({
      url: `http://127.0.0.1:${port}/hook`,
      headers: { Authorization: '<redacted>', 'X-Api-Key': '<redacted>', 'X-Trace': 'visible' },
    });
    const id = created.body.id as string;

    // A client that reads the task and writes it back keeps the stored secrets.
    const roundTrip = await api(orgToken, 'PATCH', `/api/v2/tasks/${id}`, {
      description: 'round trip',
      target: created.body.target,
    });
    expect(roundTrip.status, roundTrip.text).toBe(200);
    for (const res of [
      roundTrip,
      await api(orgToken, 'GET', `/api/v2/tasks/${id}`),
      await api(orgToken, 'GET', '/api/v2/tasks'),
      await api(OP, 'GET', '/api/v2/tasks?orgID=org-s'),
    ]) {
      expectNoSecret(res.text, 'task response');
      expect(res.text).toContain('<redacted>');
    }

    const run = await runAndWait(id);
    expect(run.body.status, run.text).toBe('success');
    const sent = received.find((r) => r.path === '/hook')?.headers ?? {};
    // The explicit Authorization header wins over the URL's credentials.
    expect(sent.authorization).toBe(`Bearer ${bearer}`);
    expect(sent['x-api-key']).toBe(apiKey);
    expect(sent['x-trace']).toBe('visible');

    // The target echoed everything back; the run log shows it scrubbed.
    for (const res of [
      run,
      await api(orgToken, 'GET', `/api/v2/tasks/${id}/runs`),
      await api(orgToken, 'GET', `/api/v2/tasks/${id}/runs/${run.body.id}/logs`),
      await api(orgToken, 'GET', `/api/v2/tasks/${id}/logs`),
    ]) {
      expectNoSecret(res.text, 'run response');
    }
    expect(JSON.stringify(run.body.log)).toContain('<redacted>');
  });

  it('from URL credentials reach the target as Basic auth, and stay out of failure logs', async () => {
    const created = await api(orgToken, 'POST', '/api/v2/tasks', {
      name: 'basic',
      // Active (an inactive task takes no manual run), yet due only on 29 February.
      cron: '0 0 29 2 *',
      target: { kind: 'http', url: `http://robot:${password}@127.0.0.1:${port}/fail`, method: 'GET' },
    });
    expect(created.status).toBe(201);
    expectNoSecret(created.text, 'create response');
    const run = await runAndWait(created.body.id);
    expect(run.body.status).toBe('failed');
    expect(received.find((r) => r.path === '/fail')?.headers.authorization).toBe(`Basic ${basic}`);
    expectNoSecret(run.text, 'failed run');
    expectNoSecret((await api(orgToken, 'GET', `/api/v2/tasks/${created.body.id}/logs`)).text, 'task logs');
  });

  it('are never stored in clear text', async () => {
    const client = dynamoClient(rota.env.ROTA_DYNAMODB_ENDPOINT ?? '');
    const scan = await client.send(new ScanCommand({ TableName: rota.env.ROTA_TABLE_NAME }));
    client.destroy();
    const raw = JSON.stringify(scan.Items);
    expectNoSecret(raw, 'the table');
    expect(raw).toContain('rota-sealed:1:local:');
  });

  it('never reach a log line', async () => {
    // The scheduler logs the whole task it advances, the executor every run it handles.
    await waitFor(
      () => {
        const logs = output.join('');
        return logs.includes('"message":"task scheduled"') && /"message":"run (success|failed)"/.test(logs)
          ? true
          : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the scheduler and executor to log' },
    );
    // A scheduled run opened the sealed headers too.
    await waitFor(() => (received.filter((r) => r.path === '/hook').length >= 2 ? true : undefined), {
      timeoutMs: 15_000,
      what: 'a scheduled run',
    });
    for (const hit of received.filter((r) => r.path === '/hook')) {
      expect(hit.headers.authorization).toBe(`Bearer ${bearer}`);
    }
    const logs = output.join('');
    expectNoSecret(logs, 'the structured logs');
    expect(logs.includes(orgToken)).toBe(false);
    expect(logs.includes(OP)).toBe(false);
  });
});
