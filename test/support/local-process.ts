import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROTA_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Local mode in a process of its own, as `npm start` (or `node local/main.ts`) runs it. */
export interface LocalProcess {
  /** The process spawned: npm, or node itself. */
  child: ChildProcess;
  /** The node process that runs Rota (from its banner); the same as `child.pid` without npm. */
  pid: number;
  url: string;
  output(): string;
  /** Resolves when the spawned process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface LocalProcessOptions {
  dataDir: string;
  /** `npm` runs `npm start -- …`; `node` runs local/main.ts on this Node.js. @default 'node' */
  via?: 'npm' | 'node';
  args?: string[];
  env?: Record<string, string>;
  /** @default 60_000 */
  startTimeoutMs?: number;
}

/** Starts local mode and resolves once it serves, with its URL and the pid of its node process. */
export async function startLocalProcess(options: LocalProcessOptions): Promise<LocalProcess> {
  const args = ['--port', '0', '--data-dir', options.dataDir, ...(options.args ?? [])];
  const env = { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN', ...options.env };
  const child =
    options.via === 'npm'
      ? spawn('npm', ['start', '--', ...args], { cwd: ROTA_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', ...args], {
          cwd: ROTA_ROOT,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let banner: RegExpExecArray | null = null;
  while (!banner) {
    banner = /Rota is running at (http:\/\/127\.0\.0\.1:\d+) {2}\(pid (\d+);/.exec(output);
    if (banner && /Try it:/.test(output)) break;
    banner = null;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`local mode exited: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`local mode did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, pid: Number(banner[2]), url: banner[1] ?? '', output: () => output, exited };
}

/** Whether a process with this pid still exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs the node process that runs Rota (and npm, if it was started through npm). */
export async function killHard(rota: LocalProcess): Promise<void> {
  if (isAlive(rota.pid)) process.kill(rota.pid, 'SIGKILL');
  if (rota.child.pid !== rota.pid && rota.child.exitCode === null) rota.child.kill('SIGKILL');
  await rota.exited;
  const deadline = Date.now() + 10_000;
  while (isAlive(rota.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
