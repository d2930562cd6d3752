import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/auth';
import { waitFor } from '../support/emulators';

const ROTA_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OP = 'test-operator-token-loopback';

/** `npm start` as a user runs it, with the shell environment and flags given. */
async function startMain(args: string[], env: Record<string, string>) {
  const {
    ROTA_ALLOWED_TARGET_HOSTS: _hosts,
    ROTA_ALLOW_PRIVATE_TARGETS: _private,
    ROTA_BOOTSTRAP_TOKEN: _token,
    ...inherited
  } = process.env;
  const child = spawn(
    join(ROTA_ROOT, 'node_modules/.bin/tsx'),
    ['local/main.ts', '--port', '0', '--workers', '1', ...args],
    {
      cwd: ROTA_ROOT,
      env: { ...inherited, ROTA_BOOTSTRAP_TOKEN: OP, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + 60_000;
  while (!/Try it:[\s\S]*authorizations/.test(output)) {
    if (child.exitCode !== null) throw new Error(`local mode exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`local mode did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /Rota is running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
  return { child, output, url };
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** The operator closes loopback from the shell: a flag, or ROTA_ALLOWED_TARGET_HOSTS. */
describe('closing loopback in local mode', () => {
  const children: ChildProcess[] = [];
  let user: Server;
  let userPort: number;

  beforeAll(async () => {
    user = createServer((_req, res) => res.writeHead(200).end('user service'));
    await new Promise<void>((resolve) => user.listen(0, '127.0.0.1', resolve));
    userPort = (user.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const child of children) await stop(child);
    await new Promise((resolve) => user?.close(resolve));
  });

  const task = (url: string) => ({
    orgID: 'org-closed',
    name: 'probe',
    // Active (an inactive task takes no manual run), yet due only on 29 February.
    cron: '0 0 29 2 *',
    target: { kind: 'http', url, method: 'GET' },
  });

  it('--allowed-target-hosts none closes loopback, and wins over the environment', async () => {
    const rota = await startMain(['--allowed-target-hosts', 'none'], {
      ROTA_ALLOWED_TARGET_HOSTS: '127.0.0.1,localhost',
    });
    children.push(rota.child);
    const api = apiClient(rota.url);

    expect(rota.output).toMatch(/Allowed target hosts: none \(loopback is closed/);
    // The API, fauxqs, dynalite and the write hook in front of it (ADR 0021).
    expect(rota.output).toMatch(/Rota's own ports \d+, \d+, \d+, \d+ are never reachable/);
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      const created = await api(OP, 'POST', '/api/v2/tasks', task(`http://${host}:${userPort}/`));
      expect(created.status, created.text).toBe(400);
      expect(created.body.message).toMatch(/is loopback; set allowPrivateTargets or allowedTargetHosts/);
    }
    await stop(rota.child);
  });

  it('honours ROTA_ALLOWED_TARGET_HOSTS from the shell instead of overwriting it', async () => {
    const rota = await startMain([], { ROTA_ALLOWED_TARGET_HOSTS: '127.0.0.1' });
    children.push(rota.child);
    const api = apiClient(rota.url);

    expect(rota.output).toMatch(/Allowed target hosts: 127\.0\.0\.1\b/);
    const refused = await api(OP, 'POST', '/api/v2/tasks', task(`http://localhost:${userPort}/`));
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.message).toMatch(/is loopback/);

    const created = await api(OP, 'POST', '/api/v2/tasks', task(`http://127.0.0.1:${userPort}/`));
    expect(created.status, created.text).toBe(201);
    const run = await api(OP, 'POST', `/api/v2/tasks/${created.body.id}/runs`, {});
    const done = await waitFor(
      async () => {
        const current = await api(OP, 'GET', `/api/v2/tasks/${created.body.id}/runs/${run.body.id}`);
        return ['success', 'failed'].includes(current.body.status) ? current.body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the run' },
    );
    expect(done.status, JSON.stringify(done)).toBe('success');
    await stop(rota.child);
  });
});
