/**
 * Figure 4, run in its own process (bench/run.ts spawns it): schedule lag in local mode.
 *
 * `startLocal` (local/start.ts) gets a process to itself, so the other figures do not
 * share its CPU. N tasks `every: 1s` with an http target on a loopback no-op
 * server; after the measurement window, their runs are read back through the HTTP API
 * (`GET /api/v2/tasks/{id}/runs`) and lag = startedAt − runAt for every instant in the
 * window. Prints one JSON line (prefixed `LAG_RESULT `) on stdout.
 *
 * The executor pollers gather for `--batching-window` ms, as the deployed event source
 * does (bench/run.ts passes the construct's default), so the figure includes the window.
 *
 *   node --import tsx bench/lag.ts --tasks 500 --seconds 60 --batching-window 0
 */
// First: silences the handlers' loggers before any lib/ module loads (they load lazily below).
import './support/quiet';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '60' },
    drain: { type: 'string', default: '5' },
    workers: { type: 'string', default: '10' },
    'batching-window': { type: 'string', default: '0' },
  },
});
const TASKS = Number(values.tasks);
const SECONDS = Number(values.seconds);
const DRAIN_MS = Number(values.drain) * 1000;
const WORKERS = Number(values.workers);
const BATCHING_WINDOW_MS = Number(values['batching-window']);

export interface LagResult {
  tasks: number;
  seconds: number;
  workers: number;
  /** The executor event source's batching window the pollers modelled. */
  batchingWindowMs: number;
  /** Instants in the window (tasks × seconds). */
  expected: number;
  /** Instants in the window that started. */
  runs: number;
  fractionRan: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /**
   * The earliest start (negative: before runAt) and how many runs started early. Delays
   * round to the nearest second (ADR 0014), so a run can start up to 500 ms early; the
   * percentiles above are of the signed lag.
   */
  minMs: number | null;
  earlyRuns: number;
  /** Target-side view: arrival at the loopback server − scheduledFor. */
  target: { requests: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  /** Target requests that arrived during the window, whichever instant they were for. */
  executedInWindow: { runsPerSec: number; lagP50Ms: number | null };
  createMs: number;
  readMs: number;
  /** Runs that ended in a state other than success. */
  notSuccess: Record<string, number>;
  /** The local-mode process during the window: CPU (100 = one core busy) and event-loop delay. */
  process: { cpuPercentOfOneCore: number; eventLoopDelayP50Ms: number; eventLoopDelayP99Ms: number };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length
    ? (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null)
    : null;

/** Runs `fn` over `items`, `limit` at a time. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

async function main(): Promise<LagResult> {
  const arrivals: { at: number; scheduledFor: number }[] = [];
  const target = createServer((req, res) => {
    const at = Date.now();
    const scheduledFor = Date.parse(String(req.headers['x-rota-scheduled-for'] ?? ''));
    if (Number.isFinite(scheduledFor)) arrivals.push({ at, scheduledFor });
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
  const hook = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;

  const { startLocal } = await import('../local/start');
  // A throwaway operator token and secrets key, in case local mode asks for them.
  const token = randomBytes(24).toString('hex');
  const rota = await startLocal({
    port: 0,
    workers: WORKERS,
    executorBatchingWindowMs: BATCHING_WINDOW_MS,
    env: { ROTA_BOOTSTRAP_TOKEN: token, ROTA_SECRETS_KEY: randomBytes(32).toString('hex') },
  });
  const auth = { authorization: `Token ${token}` };
  try {
    const createStarted = Date.now();
    const ids = await mapLimit(
      Array.from({ length: TASKS }, (_, i) => i),
      8,
      async (i) => {
        const res = await fetch(`${rota.url}/api/v2/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify({
            orgID: 'bench',
            name: `lag-${i}`,
            every: '1s',
            target: { kind: 'http', url: hook, method: 'POST' },
          }),
        });
        if (res.status !== 201) throw new Error(`create task: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { id: string }).id;
      },
    );
    const createMs = Date.now() - createStarted;

    const windowStart = Math.ceil((Date.now() + 2000) / 1000) * 1000;
    const windowEnd = windowStart + SECONDS * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, windowStart - Date.now())));
    // How busy this one process (emulators + handlers + loops) is during the window.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const cpu = process.cpuUsage();
    await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - Date.now())));
    const used = process.cpuUsage(cpu);
    loopDelay.disable();
    const process_ = {
      cpuPercentOfOneCore: Math.round(((used.user + used.system) / 1000 / (SECONDS * 1000)) * 100),
      eventLoopDelayP50Ms: Math.round(loopDelay.percentile(50) / 1e6),
      eventLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e6),
    };
    await new Promise((r) => setTimeout(r, Math.max(0, windowEnd + DRAIN_MS - Date.now())));

    const readStarted = Date.now();
    const lags: number[] = [];
    const notSuccess: Record<string, number> = {};
    const query = new URLSearchParams({
      afterTime: new Date(windowStart).toISOString(),
      beforeTime: new Date(windowEnd - 1).toISOString(),
      limit: '500',
    });
    await mapLimit(ids, 8, async (id) => {
      const res = await fetch(`${rota.url}/api/v2/tasks/${id}/runs?${query}`, { headers: auth });
      if (res.status !== 200) throw new Error(`list runs: ${res.status} ${await res.text()}`);
      const { runs } = (await res.json()) as {
        runs: { status: string; scheduledFor: string; runAt?: string; startedAt?: string }[];
      };
      for (const run of runs) {
        const scheduledFor = Date.parse(run.scheduledFor);
        if (scheduledFor < windowStart || scheduledFor >= windowEnd || !run.startedAt) continue;
        lags.push(Date.parse(run.startedAt) - Date.parse(run.runAt ?? run.scheduledFor));
        if (run.status !== 'success') notSuccess[run.status] = (notSuccess[run.status] ?? 0) + 1;
      }
    });
    const readMs = Date.now() - readStarted;

    const sorted = lags.sort((a, b) => a - b);
    const targetLags = arrivals
      .filter((a) => a.scheduledFor >= windowStart && a.scheduledFor < windowEnd)
      .map((a) => a.at - a.scheduledFor)
      .sort((a, b) => a - b);
    const expected = TASKS * SECONDS;
    // What local mode got done during the window, whatever instant it was running.
    const inWindow = arrivals
      .filter((a) => a.at >= windowStart && a.at < windowEnd)
      .map((a) => a.at - a.scheduledFor)
      .sort((a, b) => a - b);
    return {
      tasks: TASKS,
      seconds: SECONDS,
      workers: WORKERS,
      batchingWindowMs: BATCHING_WINDOW_MS,
      expected,
      runs: sorted.length,
      fractionRan: Number((sorted.length / expected).toFixed(4)),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? null,
      minMs: sorted[0] ?? null,
      earlyRuns: sorted.filter((lag) => lag < 0).length,
      target: {
        requests: targetLags.length,
        p50Ms: percentile(targetLags, 50),
        p99Ms: percentile(targetLags, 99),
        maxMs: targetLags.at(-1) ?? null,
      },
      executedInWindow: {
        runsPerSec: Number((inWindow.length / SECONDS).toFixed(1)),
        lagP50Ms: percentile(inWindow, 50),
      },
      createMs,
      readMs,
      notSuccess,
      process: process_,
    };
  } finally {
    await rota.stop();
    target.closeAllConnections();
    await new Promise<void>((resolve) => target.close(() => resolve()));
  }
}

main()
  .then((result) => {
    process.stdout.write(`LAG_RESULT ${JSON.stringify(result)}\n`);
    process.exit(0);
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
