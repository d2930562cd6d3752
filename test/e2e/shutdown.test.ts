import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/emulators';
import { isAlive, killHard, type LocalProcess, startLocalProcess } from '../support/local-process';

const TOKEN = 'shutdown-test-operator-token';

/** A loopback target that answers after `holdMs`, or never when `holdMs` is Infinity. */
async function startTarget() {
  const calls: string[] = [];
  let holdMs = 0;
  const server: Server = createServer((req, res) => {
    calls.push(String(req.headers['x-rota-run-id']));
    if (Number.isFinite(holdMs)) setTimeout(() => res.writeHead(200).end('ok'), holdMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    calls,
    hold: (ms: number) => {
      holdMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const api = async (rota: LocalProcess, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${rota.url}${path}`, {
    method,
    headers: { authorization: `Token ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
};

describe.runIf(process.platform !== 'win32')('stopping local mode', () => {
  const dirs: string[] = [];
  const running: LocalProcess[] = [];
  let target: Awaited<ReturnType<typeof startTarget>>;
  const start = async (via: 'npm' | 'node', args: string[] = []) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rota-shutdown-'));
    dirs.push(dataDir);
    const rota = await startLocalProcess({
      dataDir,
      via,
      args: ['--workers', '2', ...args],
      env: { ROTA_BOOTSTRAP_TOKEN: TOKEN },
    });
    running.push(rota);
    return rota;
  };
  afterAll(async () => {
    for (const rota of running) await killHard(rota);
    await target?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['SIGTERM', 'npm'],
    ['SIGINT', 'npm'],
    ['SIGTERM', 'node'],
    ['SIGINT', 'node'],
  ] as const)('stops gracefully on %s sent to the %s process', async (signal, to) => {
    const rota = await start('npm');
    const pid = to === 'npm' ? (rota.child.pid ?? 0) : rota.pid;
    // `npm start` runs one node process (the script execs it): no shell or tsx wrapper between.
    expect(rota.pid).not.toBe(rota.child.pid);
    process.kill(pid, signal);
    const exit = await rota.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(rota.output()).toContain(`${signal}: stopping`);
    expect(rota.output()).toContain('Rota stopped.');
    expect(isAlive(rota.pid)).toBe(false);
  });

  it('lets a run in flight finish before it exits', async () => {
    target = await startTarget();
    target.hold(1_500);
    const rota = await start('npm', ['--shutdown-grace', '30']);
    const task = await api(rota, 'POST', '/api/v2/tasks', {
      orgID: 'org',
      name: 'slow',
      every: '1h',
      target: { kind: 'http', url: target.url, method: 'POST' },
    });
    const run = await api(rota, 'POST', `/api/v2/tasks/${task.id}/runs`);
    await waitFor(() => (target.calls.includes(String(run.id)) ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the run to reach its target',
    });
    process.kill(rota.child.pid ?? 0, 'SIGTERM');
    expect(await rota.exited).toEqual({ code: 0, signal: null });
    expect(rota.output()).toMatch(/SIGTERM: stopping; 1 run batch\(es\) in flight/);
    expect(rota.output()).toContain('Rota stopped.');

    // What it finished is on disk: after a restart the run shows success, and it ran once.
    const again = await startLocalProcess({
      dataDir: dirs.at(-1) ?? '',
      env: { ROTA_BOOTSTRAP_TOKEN: TOKEN },
    });
    running.push(again);
    const stored = await api(again, 'GET', `/api/v2/tasks/${task.id}/runs/${run.id}`);
    expect(stored.status).toBe('success');
    expect(target.calls.filter((id) => id === run.id)).toHaveLength(1);
    await killHard(again);
  });

  it('exits at once on a second signal', async () => {
    target ??= await startTarget();
    target.hold(Number.POSITIVE_INFINITY);
    const rota = await start('npm', ['--shutdown-grace', '60']);
    const task = await api(rota, 'POST', '/api/v2/tasks', {
      orgID: 'org',
      name: 'hangs',
      every: '1h',
      target: { kind: 'http', url: target.url, method: 'POST' },
    });
    const run = await api(rota, 'POST', `/api/v2/tasks/${task.id}/runs`);
    await waitFor(() => (target.calls.includes(String(run.id)) ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the run to reach its target',
    });
    process.kill(rota.child.pid ?? 0, 'SIGTERM');
    await waitFor(() => (rota.output().includes('SIGTERM: stopping') ? true : undefined), {
      what: 'the first signal to be handled',
    });
    // A repeat within half a second counts as the same signal (npm forwards a terminal's Ctrl-C again).
    await new Promise((r) => setTimeout(r, 600));
    const second = Date.now();
    process.kill(rota.child.pid ?? 0, 'SIGTERM');
    const exit = await rota.exited;
    expect(Date.now() - second).toBeLessThan(10_000);
    expect(exit.code).not.toBe(0);
    expect(rota.output()).toContain('SIGTERM again: exiting now');
    expect(rota.output()).not.toContain('Rota stopped.');
  });
});
