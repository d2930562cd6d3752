import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { ROTA_ROOT } from '../support/local-process';

const TOKEN = 'cli-test-operator-token';
const ORG = 'cli-org';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `rota` bin (cli/bin.mjs, what `npx rota` runs) as its own process. */
function rotaWith(
  env: Record<string, string | undefined>,
  args: string[],
  timeoutMs = 60_000,
): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROTA_ROOT, 'cli', 'bin.mjs'), ...args],
      { cwd: ROTA_ROOT, env: { ...process.env, ...env }, timeout: timeoutMs },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function startTarget(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const slow = req.url?.includes('slow');
    setTimeout(() => res.writeHead(200).end('ok'), slow ? 1500 : 50);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('rota CLI against local mode', () => {
  let rota: LocalRota;
  let target: Awaited<ReturnType<typeof startTarget>>;
  let env: Record<string, string>;
  const cli = (...args: string[]) => rotaWith(env, args);
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await cli(...args, '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as T;
  };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    target = await startTarget();
    rota = await startLocal({ port: 0, env: { ROTA_BOOTSTRAP_TOKEN: TOKEN } });
    env = { ROTA_HOST: rota.url, ROTA_TOKEN: TOKEN };
  });
  afterAll(async () => {
    await rota?.stop();
    await target?.close();
  });

  it('is the package bin that npx rota runs, with --help at every level', async () => {
    const npx = await new Promise<Result>((resolve) =>
      execFile(
        'npx',
        ['--no-install', 'rota', '--help'],
        { cwd: ROTA_ROOT, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(npx.code).toBe(0);
    expect(npx.stdout).toContain('Usage: rota');
    expect(npx.stdout).toMatch(/task\s+manage tasks/);

    const task = await cli('task', '--help');
    for (const command of ['create', 'list', 'find', 'update', 'delete', 'run', 'log']) {
      expect(task.stdout).toMatch(new RegExp(`\\n  ${command} `));
    }
    const run = await cli('task', 'run', '--help');
    for (const command of ['list', 'retry', 'cancel'])
      expect(run.stdout).toMatch(new RegExp(`\\n  ${command} `));
    const log = await cli('task', 'log', 'list', '--help');
    expect(log.stdout).toContain('--follow');
    expect(log.code).toBe(0);
  });

  it('--version and -V print the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROTA_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      expect(await cli(flag)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
    expect((await cli('--help')).stdout).toMatch(/-V, --version\s+print the version/);
  });

  it('task create: from flags (every and cron), a JSON file and a Flux script; the table has headers', async () => {
    const created = await cli(
      'task',
      'create',
      '--org',
      ORG,
      '--name',
      'ping',
      '--every',
      '1h',
      '--url',
      `${target.url}/ping`,
    );
    expect(created.code).toBe(0);
    const [header, row] = created.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+Name\s+Status\s+Schedule\s+Last run\s+Next run\s+Target$/);
    expect(row).toMatch(/\s+ping\s+active\s+every 1h\s/);
    ids.ping = row?.split(/\s+/)[0] ?? '';

    const cron = await json<{ id: string; cron: string; timezone: string }>(
      'task',
      'create',
      '--org',
      ORG,
      '--name',
      'nightly',
      '--cron',
      '0 3 * * *',
      '--timezone',
      'Europe/Paris',
      '--url',
      `${target.url}/nightly`,
    );
    expect(cron).toMatchObject({ cron: '0 3 * * *', timezone: 'Europe/Paris' });
    ids.nightly = cron.id;

    const file = join(mkdtempSync(join(tmpdir(), 'rota-cli-')), 'task.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'from-file',
        every: '30m',
        target: { kind: 'http', url: `${target.url}/slow`, method: 'POST' },
      }),
    );
    const fromFile = await json<{ id: string; name: string; orgID: string }>(
      'task',
      'create',
      '--org',
      ORG,
      '--file',
      file,
    );
    expect(fromFile).toMatchObject({ name: 'from-file', orgID: ORG });
    ids.slow = fromFile.id;

    const flux = await json<{ id: string; name: string; every: string }>(
      'task',
      'create',
      '--org',
      ORG,
      '--flux',
      'option task = {name: "from-flux", every: 2h}\nfrom(bucket: "b")',
      '--url',
      `${target.url}/flux`,
    );
    expect(flux).toMatchObject({ name: 'from-flux', every: '2h' });
    ids.flux = flux.id;
  });

  it('task list and task find', async () => {
    const list = await cli('task', 'list', '--org', ORG);
    expect(list.code).toBe(0);
    for (const name of ['ping', 'nightly', 'from-file', 'from-flux']) expect(list.stdout).toContain(name);
    const page = await json<{ tasks: { id: string }[] }>('task', 'list', '--org', ORG);
    expect(page.tasks.map((t) => t.id).sort()).toEqual(Object.values(ids).sort());

    const found = await cli('task', 'find', '--id', ids.nightly ?? '');
    expect(found.stdout).toMatch(/nightly\s+active\s+cron 0 3 \* \* \* \(Europe\/Paris\)/);
  });

  it('task update: status, schedule and target', async () => {
    const updated = await json<{ status: string; every: string; target: { url: string } }>(
      'task',
      'update',
      '--id',
      ids.flux ?? '',
      '--status',
      'inactive',
      '--every',
      '5m',
      '--url',
      `${target.url}/moved`,
    );
    expect(updated).toMatchObject({
      status: 'inactive',
      every: '5m',
      target: { url: `${target.url}/moved` },
    });
    const table = await cli('task', 'update', '--id', ids.flux ?? '', '--status', 'active');
    expect(table.stdout).toMatch(/from-flux\s+active\s+every 5m/);
  });

  it("task update: a new URL or method keeps the target's headers and body", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rota-cli-')), 'secret.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'with-secret',
        every: '1h',
        status: 'inactive',
        target: {
          kind: 'http',
          url: `${target.url}/secret`,
          method: 'PUT',
          headers: { Authorization: 'Bearer cli-secret' },
          body: '{"n":1}',
        },
      }),
    );
    const made = await json<{ id: string }>('task', 'create', '--org', ORG, '--file', file);
    try {
      const kept = { headers: { Authorization: '<redacted>' }, body: '{"n":1}' };
      const moved = await json<{ target: unknown }>(
        'task',
        'update',
        '--id',
        made.id,
        '--url',
        `${target.url}/secret-moved`,
      );
      expect(moved.target).toEqual({
        kind: 'http',
        url: `${target.url}/secret-moved`,
        method: 'PUT',
        ...kept,
      });
      const method = await json<{ target: unknown }>('task', 'update', '--id', made.id, '--method', 'POST');
      expect(method.target).toEqual({
        kind: 'http',
        url: `${target.url}/secret-moved`,
        method: 'POST',
        ...kept,
      });
      // To another origin the stored credential does not follow: the API says to send it again.
      const elsewhere = await cli('task', 'update', '--id', made.id, '--url', 'http://localhost:1/x');
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toMatch(/^Error: .*origin changed/);
    } finally {
      await cli('task', 'delete', '--id', made.id);
    }
  });

  it('task run, task run list, task log list (task and run, with --follow), retry and cancel', async () => {
    const started = await json<{ id: string; status: string }>('task', 'run', '--id', ids.slow ?? '');
    expect(started.status).toBe('scheduled');

    // --follow with a run: prints its lines as they come and returns once the run has ended.
    const follow = await cli(
      'task',
      'log',
      'list',
      '--task-id',
      ids.slow ?? '',
      '--run-id',
      started.id,
      '--follow',
      '--interval',
      '0.2',
    );
    expect(follow.code).toBe(0);
    const lines = follow.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Time\s+Run ID\s+Message$/);
    expect(lines.filter((l) => l.includes('run started'))).toHaveLength(1);
    expect(lines.at(-1)).toContain('run succeeded');

    const runs = await cli('task', 'run', 'list', '--task-id', ids.slow ?? '');
    expect(runs.stdout.split('\n')[0]).toMatch(
      /^ID\s+Status\s+Scheduled for\s+Started\s+Finished\s+Duration\s+Attempt$/,
    );
    expect(runs.stdout).toMatch(new RegExp(`${started.id}\\s+success\\s`));

    const logs = await cli('task', 'log', 'list', '--task-id', ids.slow ?? '');
    expect(logs.stdout).toContain('HTTP POST');

    const retried = await json<{ id: string; retryOf?: string }>(
      'task',
      'run',
      'retry',
      '--task-id',
      ids.slow ?? '',
      '--run-id',
      started.id,
    );
    expect(retried.id).not.toBe(started.id);

    const later = await json<{ id: string }>(
      'task',
      'run',
      '--id',
      ids.slow ?? '',
      '--scheduled-for',
      new Date(Date.now() + 3_600_000).toISOString(),
    );
    const canceled = await cli('task', 'run', 'cancel', '--task-id', ids.slow ?? '', '--run-id', later.id);
    expect(canceled).toMatchObject({ code: 0, stdout: `Canceled run ${later.id}\n` });
    const all = await json<{ runs: { id: string; status: string }[] }>(
      'task',
      'run',
      'list',
      '--task-id',
      ids.slow ?? '',
    );
    expect(all.runs.find((r) => r.id === later.id)?.status).toBe('canceled');
    expect(all.runs.map((r) => r.id)).toContain(retried.id);
  });

  it('task delete', async () => {
    const deleted = await cli('task', 'delete', '--id', ids.ping ?? '');
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted task ${ids.ping}\n` });
    const gone = await cli('task', 'find', '--id', ids.ping ?? '');
    expect(gone.code).not.toBe(0);
  });

  it('errors print "Error: <message>" to stderr and exit non-zero', async () => {
    const missing = await cli('task', 'find', '--id', 'no-such-task');
    expect(missing).toMatchObject({ code: 1, stdout: '', stderr: 'Error: task not found\n' });

    const invalid = await cli(
      'task',
      'create',
      '--org',
      ORG,
      '--name',
      'bad',
      '--every',
      'soon',
      '--url',
      `${target.url}/x`,
    );
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^Error: .*every/);

    const noToken = await rotaWith({ ROTA_HOST: rota.url, ROTA_TOKEN: undefined }, [
      'task',
      'list',
      '--org',
      ORG,
    ]);
    expect(noToken).toMatchObject({
      code: 1,
      stderr: 'Error: no token: pass --token TOKEN or set ROTA_TOKEN\n',
    });

    // --host and --token win over the environment.
    const flags = await rotaWith({ ROTA_HOST: 'http://127.0.0.1:1', ROTA_TOKEN: 'wrong' }, [
      '--host',
      rota.url,
      '--token',
      TOKEN,
      'task',
      'list',
      '--org',
      ORG,
    ]);
    expect(flags.code).toBe(0);
    const badToken = await rotaWith({ ...env, ROTA_TOKEN: 'not-a-token-at-all' }, [
      'task',
      'list',
      '--org',
      ORG,
    ]);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/^Error: /);

    const unknown = await cli('task', 'frobnicate');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/^Error: unknown command 'frobnicate'/);
  });

  it("adds the HTTP status to an answer without a code, API Gateway's own shape", async () => {
    // Stands in for API Gateway, whose throttle and 404 answers are a bare {"message"}.
    const gateway = createServer((req, res) => {
      const throttled = req.url?.startsWith('/api/v2/tasks?');
      res
        .writeHead(throttled ? 429 : 404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: throttled ? 'Too Many Requests' : 'Not Found' }));
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', () => resolve()));
    try {
      const host = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
      const gatewayEnv = { ROTA_HOST: host, ROTA_TOKEN: TOKEN };
      expect(await rotaWith(gatewayEnv, ['task', 'list', '--org', ORG])).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Error: Too Many Requests (HTTP 429)\n',
      });
      expect(await rotaWith(gatewayEnv, ['task', 'find', '--id', 'x'])).toMatchObject({
        code: 1,
        stderr: 'Error: Not Found (HTTP 404)\n',
      });
    } finally {
      gateway.closeAllConnections();
      await new Promise((resolve) => gateway.close(resolve));
    }
  });
});
