import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../lib/auth/token';

const ROTA_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm start` as a user runs it: its own process, its own output. */
async function startMain(dataDir: string, env: Record<string, string> = {}) {
  const { ROTA_BOOTSTRAP_TOKEN: _, ...inherited } = process.env;
  const child = spawn(
    join(ROTA_ROOT, 'node_modules/.bin/tsx'),
    ['local/main.ts', '--port', '0', '--data-dir', dataDir, '--workers', '1'],
    { cwd: ROTA_ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const deadline = Date.now() + 60_000;
  // The banner ends with the "Try it" block; wait for all of it.
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

describe('the bootstrap operator token in local mode', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rota-bootstrap-'));
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const tasks = (url: string, token?: string) =>
    fetch(`${url}/api/v2/tasks?orgID=boot`, token ? { headers: { authorization: `Token ${token}` } } : {});

  it('is generated and printed once, kept only as a hash, and still valid after a restart', async () => {
    const first = await startMain(dataDir);
    children.push(first.child);
    const token = /Operator token \(shown only now[^\n]*\n\s+(\S+)/.exec(first.output)?.[1] ?? '';
    expect(token).toMatch(/^rota-operator-[A-Za-z0-9_-]{43}$/);
    expect(first.output.split(token).length - 1).toBe(1);
    expect((await tasks(first.url, token)).status).toBe(200);
    expect((await tasks(first.url)).status).toBe(401);

    const hashFile = join(dataDir, 'rota-operator-token.sha256');
    expect(readFileSync(hashFile, 'utf8').trim()).toBe(sha256Hex(token));
    for (const file of [hashFile, join(dataDir, 'rota-secrets.key')]) {
      expect(statSync(file).mode & 0o077, file).toBe(0);
    }
    await stop(first.child);

    const second = await startMain(dataDir);
    children.push(second.child);
    expect(second.output).not.toContain(token);
    expect(second.output).toContain('Operator token: ROTA_BOOTSTRAP_TOKEN, or the one printed');
    expect((await tasks(second.url, token)).status).toBe(200);
    await stop(second.child);
  });

  it('comes from ROTA_BOOTSTRAP_TOKEN when set, and is then never printed', async () => {
    const chosen = 'my-own-operator-token-123';
    const third = await startMain(dataDir, { ROTA_BOOTSTRAP_TOKEN: chosen });
    children.push(third.child);
    expect(third.output).not.toContain(chosen);
    expect((await tasks(third.url, chosen)).status).toBe(200);
    await stop(third.child);
  });
});
