import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { type TaskCreateRequest, TasksAPI } from '@influxdata/influxdb-client-apis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { waitFor } from '../support/emulators';

interface Received {
  path: string;
  org: string | null;
  authorization: string | undefined;
  body: { query?: string; type?: string; now?: string; dialect?: unknown };
}

/** Three rows in two tables, as InfluxDB annotates them. */
const TWO_TABLES = [
  '#datatype,string,long,dateTime:RFC3339,double',
  '#group,false,false,false,false',
  '#default,_result,,,',
  ',result,table,_time,_value',
  ',,0,2026-12-01T00:00:00Z,1',
  ',,0,2026-12-01T00:01:00Z,2',
  ',,1,2026-12-01T00:00:00Z,3',
  '',
].join('\r\n');

/** A failure InfluxDB reports after it has begun streaming: a table of its own. */
const STREAMED_ERROR = [
  '#datatype,string,string',
  '#group,true,true',
  '#default,,',
  ',error,reference',
  ',"runtime error @2:4-2:20: panic: division by zero",',
  '',
].join('\r\n');

/**
 * A loopback stand-in for InfluxDB's `POST /api/v2/query`: it records what it received
 * and answers by the script's content, as a server compiling and running it would.
 */
function startInfluxStandIn() {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = JSON.parse(text || '{}') as Received['body'];
      received.push({
        path: url.pathname,
        org: url.searchParams.get('org'),
        authorization: req.headers.authorization,
        body,
      });
      const query = body.query ?? '';
      if (query.includes('undefinedThing')) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            code: 'invalid',
            message: 'compilation failed: error @2:1-2:15: undefined identifier undefinedThing',
          }),
        );
      } else {
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
        res.end(query.includes('1 / 0') ? STREAMED_ERROR : TWO_TABLES);
      }
    });
  });
  return new Promise<{ url: string; received: Received[]; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        received,
        close: () => new Promise((r) => server.close(() => r())),
      });
    }),
  );
}

const script = (name: string, body: string) => `option task = {name: "${name}", every: 1h}\n\n${body}`;

describe('Flux tasks in local mode, against a loopback InfluxDB', () => {
  let rota: LocalRota;
  let tasks: TasksAPI;
  let influx: Awaited<ReturnType<typeof startInfluxStandIn>>;
  let own: Awaited<ReturnType<typeof startInfluxStandIn>>;
  const orgID = 'flux-org';

  /** Runs the task now and waits for the run to end; returns it with its log. */
  async function runToEnd(taskID: string) {
    const run = await tasks.postTasksIDRuns({ taskID, body: {} });
    const ended = await waitFor(
      async () => {
        const current = await tasks.getTasksIDRunsID({ taskID, runID: run.id ?? '' });
        return current.status === 'success' || current.status === 'failed' ? current : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the run to end' },
    );
    const logs = await tasks.getTasksIDRunsIDLogs({ taskID, runID: run.id ?? '' });
    return { run: ended, log: (logs.events ?? []).map((e) => e.message).join('\n') };
  }

  async function refusal(body: Record<string, unknown>): Promise<{ status: number; message: string }> {
    try {
      await tasks.postTasks({ body: body as unknown as TaskCreateRequest });
    } catch (error) {
      if (error instanceof HttpError) return { status: error.statusCode, message: error.body ?? '' };
      throw error;
    }
    throw new Error('the request was accepted');
  }

  beforeAll(async () => {
    influx = await startInfluxStandIn();
    own = await startInfluxStandIn();
    rota = await startLocal({
      port: 0,
      workers: 4,
      env: {
        ROTA_BOOTSTRAP_TOKEN: 'test-operator-token',
        ROTA_INFLUX_URL: influx.url,
        ROTA_INFLUX_TOKEN: 'deployment-influx-token',
        ROTA_INFLUX_ORG: 'influx-org',
      },
    });
    tasks = new TasksAPI(new InfluxDB({ url: rota.url, token: 'test-operator-token' }));
  });
  afterAll(async () => {
    await rota?.stop();
    await influx?.close();
    await own?.close();
  });

  it("creates a task from InfluxDB's {orgID, flux} body and runs its script on the deployment's InfluxDB", async () => {
    const flux = script('rows', 'from(bucket: "telegraf") |> range(start: -1h) |> count()');
    const task = await tasks.postTasks({ body: { orgID, flux } });
    expect(task).toMatchObject({ orgID, name: 'rows', every: '1h', flux });

    const { run, log } = await runToEnd(task.id);
    expect(run.status).toBe('success');
    expect(log).toMatch(new RegExp(`Flux query on ${influx.url}/ -> 3 rows in 2 tables in \\d+ ms`));

    const sent = influx.received.at(-1);
    expect(sent).toMatchObject({
      path: '/api/v2/query',
      org: 'influx-org',
      authorization: 'Token deployment-influx-token',
      body: { query: flux, type: 'flux', now: run.scheduledFor },
    });
  });

  it("fails a run with InfluxDB's own message, for an HTTP error and for a streamed one", async () => {
    const compile = await tasks.postTasks({
      body: { orgID, flux: script('bad', 'undefinedThing |> yield()') },
    });
    const failed = await runToEnd(compile.id);
    expect(failed.run.status).toBe('failed');
    expect(failed.log).toContain(
      '(HTTP 400): compilation failed: error @2:1-2:15: undefined identifier undefinedThing',
    );
    expect((await tasks.getTasksID({ taskID: compile.id })).lastRunError).toBe(
      'flux query failed: compilation failed: error @2:1-2:15: undefined identifier undefinedThing',
    );

    const runtime = await tasks.postTasks({ body: { orgID, flux: script('zero', 'x = 1 / 0') } });
    const streamed = await runToEnd(runtime.id);
    expect(streamed.run.status).toBe('failed');
    expect((await tasks.getTasksID({ taskID: runtime.id })).lastRunError).toBe(
      'flux query failed: runtime error @2:4-2:20: panic: division by zero',
    );
  });

  it('runs on the InfluxDB a flux target names, with its own sealed token, never shown back', async () => {
    const flux = script('own', 'from(bucket: "b") |> range(start: -5m)');
    const task = await tasks.postTasks({
      body: {
        orgID,
        flux,
        target: {
          kind: 'flux',
          url: own.url,
          org: 'own-org',
          headers: { Authorization: 'Token own-secret-token' },
        },
      } as unknown as TaskCreateRequest,
    });
    const shown = JSON.stringify(await tasks.getTasksID({ taskID: task.id }));
    expect(shown).not.toContain('own-secret-token');
    expect(shown).toContain('<redacted>');

    const before = influx.received.length;
    const { run, log } = await runToEnd(task.id);
    expect(run.status).toBe('success');
    expect(log).not.toContain('own-secret-token');
    expect(own.received.at(-1)).toMatchObject({
      org: 'own-org',
      authorization: 'Token own-secret-token',
      body: { query: flux },
    });
    expect(influx.received.length).toBe(before);
  });

  it('refuses a task with nothing to run, and deployment credentials a task brings', async () => {
    expect(await refusal({ orgID, name: 'nothing', every: '1h' })).toMatchObject({
      status: 400,
      message: expect.stringContaining('target: required unless flux is given'),
    });
    expect(
      await refusal({ orgID, name: 'no script', every: '1h', target: { kind: 'flux', url: own.url } }),
    ).toMatchObject({
      status: 400,
      message: expect.stringContaining('flux: required with a target of kind flux'),
    });
    expect(
      await refusal({
        orgID,
        flux: script('borrow', 'from(bucket: "b")'),
        target: { kind: 'flux', headers: { Authorization: 'Token mine' } },
      }),
    ).toMatchObject({
      status: 400,
      message: expect.stringContaining('target.headers: only with target.url'),
    });
  });
});
