import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/emulators';
import { ROTA_ROOT } from '../support/local-process';

const TOKEN = 'local-start-operator-token';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Started {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `npm start …` exactly as a user types it; resolves once the banner is out. */
async function npmStart(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn('npm', ['start', ...args], {
    cwd: ROTA_ROOT,
    env: { ...process.env, ROTA_BOOTSTRAP_TOKEN: TOKEN, POWERTOOLS_LOG_LEVEL: 'INFO', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started: Started = {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`npm start exited: ${output}`);
        return /^Logs: /m.test(output) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50, what: `npm start ${args.join(' ')}` },
    );
  } catch (error) {
    await started.stop();
    throw error;
  }
  return started;
}

const servedAt = (output: string) => /Rota is running at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];

describe('npm start, as the README phrases it', () => {
  let target: Server;
  let targetUrl: string;
  beforeAll(async () => {
    target = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
  });

  it('takes --port=N and --port N through npm, and both win over PORT', async () => {
    for (const form of ['equals', 'space'] as const) {
      const [port, other] = [await freePort(), await freePort()];
      const args = form === 'equals' ? [`--port=${port}`] : ['--port', String(port)];
      const rota = await npmStart(args, { PORT: String(other) });
      try {
        expect(servedAt(rota.output()), form).toBe(String(port));
        expect(rota.output()).toContain(`Console: http://127.0.0.1:${port}/`);
        const page = await fetch(`http://127.0.0.1:${port}/`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<title>Rota console</title>');
      } finally {
        await rota.stop();
      }
    }
  });

  it('uses PORT without a flag, and refuses a bad port with a usage line, no stack trace', async () => {
    const port = await freePort();
    const fromEnv = await npmStart([], { PORT: String(port) });
    expect(servedAt(fromEnv.output())).toBe(String(port));
    await fromEnv.stop();

    const bad = spawn('npm', ['start', '--silent', '--', '--port', 'eighty'], {
      cwd: ROTA_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    bad.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => bad.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('Error: --port must be a port number (0-65535), got "eighty"');
    expect(stderr).toContain('Usage: npm start');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('takes -- --port N, and logs one human line per task change and per run at INFO, no per-tick line', async () => {
    const port = await freePort();
    const rota = await npmStart(['--', '--port', String(port)]);
    try {
      const api = (method: string, path: string, body?: unknown) =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: { authorization: `Token ${TOKEN}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const created = (await (
        await api('POST', '/api/v2/tasks', {
          orgID: 'log-org',
          name: 'log-me',
          every: '1s',
          target: { kind: 'http', url: targetUrl, method: 'POST' },
        })
      ).json()) as { id: string };
      await waitFor(
        () => ((rota.output().match(/ INFO {2}run success /g) ?? []).length >= 3 ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 100, what: 'three run lines' },
      );
      await api('DELETE', `/api/v2/tasks/${created.id}`);
      await waitFor(() => (rota.output().includes('task deleted: log-me') ? true : undefined), {
        timeoutMs: 10_000,
        what: 'the delete line',
      });
      const logLines = rota
        .output()
        .split('\n')
        .filter((line) => /^\d\d:\d\d:\d\d\.\d{3} /.test(line));
      expect(logLines.find((l) => l.includes('task created: log-me'))).toMatch(
        new RegExp(
          `INFO {2}task created: log-me {2}taskID=${created.id} orgID=log-org status=active every=1s`,
        ),
      );
      expect(
        logLines.filter((l) => l.includes(`run success  runID=`) && l.includes(created.id)).length,
      ).toBeGreaterThanOrEqual(3);
      // Seconds of 1 s ticks went by: none of them printed a line at INFO.
      expect(rota.output()).not.toContain('scheduler tick');
      expect(
        rota
          .output()
          .split('\n')
          .filter((line) => line.startsWith('{')),
      ).toEqual([]);
    } finally {
      await rota.stop();
    }
  });
  it('--log-format json: each line names the function that wrote it, as on Lambda', async () => {
    const port = await freePort();
    const rota = await npmStart(['--', '--port', String(port), '--log-format', 'json']);
    try {
      const api = (method: string, path: string, body?: unknown) =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: { authorization: `Token ${TOKEN}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const created = (await (
        await api('POST', '/api/v2/tasks', {
          orgID: 'json-org',
          name: 'json-me',
          every: '1s',
          target: { kind: 'http', url: targetUrl, method: 'POST' },
        })
      ).json()) as { id: string };
      const lines = () =>
        rota
          .output()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { message: string; taskID?: string; function_name?: string });
      // The scheduler ticks every second beside the API and the executor, all in one process.
      await waitFor(
        () =>
          lines().filter((l) => l.message === 'run success' && l.taskID === created.id).length >= 3
            ? true
            : undefined,
        { timeoutMs: 30_000, intervalMs: 100, what: 'three run lines' },
      );
      await api('DELETE', `/api/v2/tasks/${created.id}`);
      await waitFor(() => (lines().some((l) => l.message === 'task deleted: json-me') ? true : undefined), {
        timeoutMs: 10_000,
        what: 'the delete line',
      });
      const ours = lines().filter((l) => l.taskID === created.id);
      const byMessage = (message: string) => ours.filter((l) => l.message === message);
      expect(byMessage('task created: json-me').map((l) => l.function_name)).toEqual(['rota-tasks-api']);
      expect(byMessage('task deleted: json-me').map((l) => l.function_name)).toEqual(['rota-tasks-api']);
      const runs = byMessage('run success');
      expect(runs.length).toBeGreaterThanOrEqual(3);
      expect(new Set(runs.map((l) => l.function_name))).toEqual(new Set(['rota-executor']));
    } finally {
      await rota.stop();
    }
  });
});
