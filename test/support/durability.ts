/**
 * The durability experiment of issue 10, shared by test/e2e/durability.test.ts and
 * `npm run chaos`: local mode on a data dir, a loopback target that records every call,
 * tasks of every kind, SIGKILLs at chosen moments with restarts, and an audit of what
 * ran against what was planned.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { policyRetryRunID, scheduledRunID } from '../../lib/run/run-ids';
import { compileSchedule } from '../../lib/schedule/schedule';
import { isAlive, killHard, type LocalProcess, startLocalProcess } from './local-process';

export const OPERATOR_TOKEN = 'durability-operator-token';

/** One call the target received. */
export interface Call {
  task: string;
  runID: string;
  scheduledFor: string;
  start: number;
  end?: number;
}

/**
 * A loopback HTTP target: `/<task name>?delay=ms&status=code`. It records every call
 * and how many calls of each task are in flight at once. A call cut off by a killed
 * process ends when its connection closes.
 */
export async function startRecordingTarget() {
  const calls: Call[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://target');
    const task = url.pathname.slice(1);
    const call: Call = {
      task,
      runID: String(req.headers['x-rota-run-id']),
      scheduledFor: String(req.headers['x-rota-scheduled-for']),
      start: Date.now(),
    };
    calls.push(call);
    const now = (inFlight.get(task) ?? 0) + 1;
    inFlight.set(task, now);
    maxInFlight.set(task, Math.max(maxInFlight.get(task) ?? 0, now));
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      call.end = Date.now();
      inFlight.set(task, (inFlight.get(task) ?? 1) - 1);
    };
    const timer = setTimeout(
      () => {
        end();
        res.writeHead(Number(url.searchParams.get('status') ?? 200)).end('done');
      },
      Number(url.searchParams.get('delay') ?? 0),
    );
    // Consumed, so a closed connection is seen as 'close' at once.
    req.resume();
    res.on('close', () => {
      clearTimeout(timer);
      end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    inFlight: () => [...inFlight.values()].reduce((a, b) => a + b, 0),
    maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type RecordingTarget = Awaited<ReturnType<typeof startRecordingTarget>>;

export interface TaskSpec {
  name: string;
  every: string;
  concurrency?: number;
  delayMs: number;
  fails?: boolean;
  retry?: { attempts: number; backoff: string };
  catchUp?: 'skip' | 'latest' | 'all';
}

/** The mix of the issue's experiment, `count` tasks of it: 1 s and 2 s schedules, caps of 1 and 2, failures with retries. */
export function taskMix(count: number): TaskSpec[] {
  // Each capped kind leaves headroom (runs shorter than the interval times the cap), so
  // the backlog a kill leaves behind drains; a mix the caps cannot serve would never settle.
  const kinds: Omit<TaskSpec, 'name'>[] = [
    { every: '1s', delayMs: 100 },
    { every: '1s', delayMs: 300 },
    { every: '2s', delayMs: 1_500 },
    // The burst task: 300 ms every 2 s, so a backlog of bursts drains even when each hand-over is slow.
    { every: '2s', delayMs: 300, concurrency: 1 },
    { every: '1s', delayMs: 1_000, concurrency: 2 },
    { every: '2s', delayMs: 200, fails: true, retry: { attempts: 2, backoff: '1s' } },
    { every: '2s', delayMs: 1_000, concurrency: 1 },
    { every: '1s', delayMs: 50, catchUp: 'all' },
    { every: '2s', delayMs: 100, concurrency: 1, fails: true, retry: { attempts: 1, backoff: '1s' } },
  ];
  return Array.from({ length: count }, (_, i) => ({
    name: `t${String(i).padStart(2, '0')}`,
    ...(kinds[i % kinds.length] as Omit<TaskSpec, 'name'>),
  }));
}

interface ApiRun {
  id: string;
  taskID: string;
  status: string;
  scheduledFor: string;
  startedAt?: string;
  finishedAt?: string;
  attempt: number;
  retryOf?: string;
  log: { message: string }[];
}

/** Rota's HTTP API, as a client sees it, on whichever process is up. */
export class Client {
  constructor(public url: string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Token ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  createTask(spec: TaskSpec, targetUrl: string, timeout: string) {
    const query = `delay=${spec.delayMs}${spec.fails ? '&status=500' : ''}`;
    return this.call<{ id: string; latestCompleted?: string; createdAt: string }>('POST', '/api/v2/tasks', {
      orgID: 'chaos',
      name: spec.name,
      every: spec.every,
      timeout,
      ...(spec.concurrency ? { concurrency: spec.concurrency } : {}),
      ...(spec.retry ? { retry: spec.retry } : {}),
      ...(spec.catchUp ? { catchUp: spec.catchUp } : {}),
      target: { kind: 'http', url: `${targetUrl}/${spec.name}?${query}`, method: 'POST' },
    });
  }

  runNow(taskID: string, scheduledFor?: string) {
    return this.call<ApiRun>('POST', `/api/v2/tasks/${taskID}/runs`, scheduledFor ? { scheduledFor } : {});
  }

  async runs(taskID: string, limit = 500): Promise<ApiRun[]> {
    const all: ApiRun[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.call<{ runs: ApiRun[] }>(
        'GET',
        `/api/v2/tasks/${taskID}/runs?limit=${limit}${after ? `&after=${after}` : ''}`,
      );
      all.push(...page.runs);
      if (page.runs.length < limit) return all;
      after = page.runs.at(-1)?.id;
    }
  }
}

export interface ExperimentOptions {
  dataDir: string;
  tasks: TaskSpec[];
  /** Seconds from the tasks' creation to each SIGKILL. */
  killsAt: number[];
  /** How long each kill keeps the process down, in ms. */
  downtimeMs: number;
  /** Seconds from the tasks' creation after which no more instants are audited. */
  windowSeconds: number;
  /** How long after the window the audited runs may take to finish, in ms. */
  settleMs: number;
  /** Task timeout (a started run is stalled after it plus the claim TTL). */
  timeout: string;
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** Keep each process's output (INFO logs included) as `process-<n>.log` here. */
  logDir?: string;
  /** `--workers` for local mode. @default local mode's own default */
  workers?: number;
}

/** What the process had going on at the moment it was killed. */
export interface KillMoment {
  at: number;
  restartedAt: number;
  callsInFlight: number;
  waitingRuns: number;
  /**
   * Runs queued for later: instants the scheduler had already sent with an SQS delay
   * (those before each task's next run time) and manual runs scheduled ahead.
   */
  delayedRuns: number;
}

export interface Audit {
  planned: number;
  ran: number;
  lost: string[];
  stranded: string[];
  /** Runs started more than once whose log does not say it resumed. */
  duplicateStarts: string[];
  /** Runs started more than once after a crash, their log saying "resumed". */
  resumedStarts: number;
  retriesMissing: string[];
  capViolations: string[];
  manualRuns: number;
  retries: number;
  kills: KillMoment[];
  /** Warnings and errors the processes logged, by message, most frequent first. */
  problems: [string, number][];
}

/**
 * Runs the experiment: local mode on `dataDir`, the tasks created, a burst of manual
 * runs on a capped task before each kill (so runs wait at the kill) and one manual run
 * scheduled past the first restart, SIGKILLs with restarts, then the audit.
 */
export async function runExperiment(options: ExperimentOptions): Promise<Audit> {
  const log = options.log ?? (() => {});
  const outputs: string[] = [];
  const env: Record<string, string> = {
    ROTA_BOOTSTRAP_TOKEN: OPERATOR_TOKEN,
    ...(options.logDir ? { POWERTOOLS_LOG_LEVEL: 'INFO' } : {}),
    ...options.env,
  };
  const keepOutput = (output: string) => {
    outputs.push(output);
    if (options.logDir) writeFileSync(join(options.logDir, `process-${outputs.length}.log`), output);
  };
  const target = await startRecordingTarget();
  // problemsIn reads the processes' JSON log lines.
  const args = ['--log-format', 'json', ...(options.workers ? ['--workers', String(options.workers)] : [])];
  let rota: LocalProcess = await startLocalProcess({ dataDir: options.dataDir, env, args });
  const client = new Client(rota.url);
  const storeViolations: string[] = [];
  const kills: KillMoment[] = [];
  const manual: ApiRun[] = [];
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  try {
    const created = new Map<string, { id: string; createdAt: number; spec: TaskSpec }>();
    for (const spec of options.tasks) {
      const task = await client.createTask(spec, target.url, options.timeout);
      created.set(task.id, { id: task.id, createdAt: Date.parse(task.createdAt), spec });
    }
    const origin = Date.now();
    log(`created ${created.size} tasks; kills at ${options.killsAt.join(', ')} s`);
    const limited = [...created.values()].filter((t) => t.spec.concurrency !== undefined);
    // A capped task with headroom (300 ms every 2 s), so the bursts drain even on a loaded machine.
    const burstTask = limited.find((t) => t.spec.concurrency === 1 && !t.spec.fails) ?? limited[0];
    const unlimited = [...created.values()].find((t) => t.spec.concurrency === undefined && !t.spec.fails);

    // The cap, as the table shows it: never more started runs than `concurrency`.
    sampler = (async () => {
      while (sampling) {
        for (const task of limited) {
          const runs = await client.runs(task.id, 100).catch(() => undefined);
          if (!runs) continue;
          const started = runs.filter((r) => r.status === 'started').length;
          if (started > (task.spec.concurrency ?? 0)) {
            storeViolations.push(`${task.spec.name}: ${started} started in the table`);
          }
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    const at = (seconds: number) =>
      new Promise((r) => setTimeout(r, Math.max(0, origin + seconds * 1000 - Date.now())));
    for (const [i, killAt] of options.killsAt.entries()) {
      // Runs that wait at the kill: a burst on a capped task just before it (then polled below).
      await at(killAt - 0.5);
      if (burstTask) {
        for (let n = 0; n < 4; n++) manual.push(await client.runNow(burstTask.id));
      }
      if (i === 0 && unlimited) {
        // A manual run scheduled past the first restart: it is delayed in the queue at the kill.
        const when = new Date(origin + (killAt + 8) * 1000).toISOString();
        manual.push(await client.runNow(unlimited.id, when));
      }
      await at(killAt);
      const countWaiting = async () =>
        burstTask
          ? (await client.runs(burstTask.id, 100)).filter(
              (r) =>
                r.status === 'scheduled' &&
                r.log.some((l) => l.message.startsWith('waiting for a concurrency slot')),
            ).length
          : 0;
      // On a loaded machine the burst may not have reached its executors yet: give it up to 3 s,
      // so the kill lands while runs wait rather than at a fixed instant.
      let waitingRuns = await countWaiting();
      for (const pollBy = Date.now() + 3_000; waitingRuns === 0 && Date.now() < pollBy; ) {
        await new Promise((r) => setTimeout(r, 100));
        waitingRuns = await countWaiting();
      }
      const delayedRuns = await countDelayed(client, created);
      const moment: KillMoment = {
        at: Date.now(),
        restartedAt: 0,
        callsInFlight: target.inFlight(),
        waitingRuns,
        delayedRuns,
      };
      await killHard(rota);
      keepOutput(rota.output());
      log(
        `kill ${i + 1} at ${((moment.at - origin) / 1000).toFixed(1)} s: ${moment.callsInFlight} calls in flight, ${waitingRuns} runs waiting, ${delayedRuns} accepted for later`,
      );
      await new Promise((r) => setTimeout(r, options.downtimeMs));
      rota = await startLocalProcess({ dataDir: options.dataDir, env, args });
      client.url = rota.url;
      moment.restartedAt = Date.now();
      kills.push(moment);
      log(`restarted after ${((moment.restartedAt - moment.at) / 1000).toFixed(1)} s`);
    }

    await at(options.windowSeconds);
    const cutoff = Date.now();
    log(
      `window closed at ${((cutoff - origin) / 1000).toFixed(1)} s; waiting for the audited runs to finish`,
    );
    const settleBy = cutoff + options.settleMs;
    let audit = await auditRuns(client, target, created, manual, origin, cutoff, kills, false);
    while (audit.pendingIDs.length > 0 && Date.now() < settleBy) {
      await new Promise((r) => setTimeout(r, 1_000));
      audit = await auditRuns(client, target, created, manual, origin, cutoff, kills, false);
    }
    audit = await auditRuns(client, target, created, manual, origin, cutoff, kills, true);
    sampling = false;
    await sampler;
    const targetViolations = [...created.values()]
      .filter((t) => t.spec.concurrency !== undefined)
      .filter((t) => (target.maxInFlight.get(t.spec.name) ?? 0) > (t.spec.concurrency ?? 0))
      .map((t) => `${t.spec.name}: ${target.maxInFlight.get(t.spec.name)} calls in flight at the target`);
    keepOutput(rota.output());
    return {
      ...audit.result,
      stranded: audit.pendingIDs,
      capViolations: [...new Set(storeViolations), ...targetViolations],
      kills,
      problems: problemsIn(outputs.join('\n')),
    };
  } finally {
    sampling = false;
    await sampler;
    if (isAlive(rota.pid)) {
      process.kill(rota.pid, 'SIGTERM');
      await Promise.race([rota.exited, new Promise((r) => setTimeout(r, 15_000))]);
    }
    await killHard(rota);
    await target.close();
  }
}

/**
 * Every instant of every task from its creation to the cutoff must have started: the
 * kills here are shorter than the missed-run grace, so instants inside the downtime are
 * late, not missed, and run whatever the task's catchUp. A run that started twice must
 * say "resumed" in its log. Runs not final yet are pending.
 */
async function auditRuns(
  client: Client,
  target: RecordingTarget,
  tasks: Map<string, { id: string; createdAt: number; spec: TaskSpec }>,
  manual: ApiRun[],
  origin: number,
  cutoff: number,
  kills: KillMoment[],
  final: boolean,
) {
  const when = (time: number) => `+${((time - origin) / 1000).toFixed(1)}s`;
  // Counted after each task's runs are read: a run that finished meanwhile has its call counted.
  const callsByRun = new Map<string, number>();
  const countCalls = () => {
    callsByRun.clear();
    for (const call of target.calls) callsByRun.set(call.runID, (callsByRun.get(call.runID) ?? 0) + 1);
  };
  const lost: string[] = [];
  const pendingIDs: string[] = [];
  const duplicateStarts: string[] = [];
  const retriesMissing: string[] = [];
  let planned = 0;
  let ran = 0;
  let resumedStarts = 0;
  let retries = 0;
  const longestDowntime = Math.max(0, ...kills.map((k) => k.restartedAt - k.at));
  if (longestDowntime >= 120_000)
    throw new Error('a kill outlasted the missed-run grace; the audit assumes it does not');

  for (const task of tasks.values()) {
    const runs = new Map((await client.runs(task.id)).map((r) => [r.id, r]));
    countCalls();
    const schedule = compileSchedule({ every: task.spec.every });
    const check = (run: ApiRun | undefined, label: string) => {
      if (!run || run.status === 'scheduled' || run.status === 'started') {
        pendingIDs.push(`${label} ${run?.status ?? 'missing'}: ${run?.log.at(-1)?.message ?? 'no log'}`);
        return;
      }
      const starts = callsByRun.get(run.id) ?? 0;
      if (starts === 0 && run.status !== 'canceled') {
        lost.push(`${label} ${run.status} without a call: ${run.log.map((l) => l.message).join(' | ')}`);
      }
      if (starts > 0) ran++;
      if (starts > 1) {
        if (run.log.some((l) => l.message.startsWith('run resumed'))) resumedStarts++;
        else duplicateStarts.push(`${label} started ${starts} times`);
      }
      if (run.status === 'failed' && task.spec.retry && run.attempt <= task.spec.retry.attempts) {
        const retryID = policyRetryRunID(run.id, Date.parse(run.scheduledFor), run.attempt + 1);
        const retry = runs.get(retryID);
        if (!retry) retriesMissing.push(`${label} attempt ${run.attempt + 1}`);
        else {
          retries++;
          check(retry, `${label} retry ${retry.attempt}`);
        }
      }
    };
    // The cursor a new task starts from is its creation second; every later instant is planned.
    for (
      let at = schedule.nextAfter(Math.floor(task.createdAt / 1000) * 1000);
      at <= cutoff;
      at = schedule.nextAfter(at)
    ) {
      planned++;
      const id = scheduledRunID(task.id, at);
      const run = runs.get(id);
      if (!run) {
        // Never stored: no delivery reached an executor. Still coming, or (at the end) lost.
        (final ? lost : pendingIDs).push(`${task.spec.name} ${when(at)} never ran`);
        continue;
      }
      check(run, `${task.spec.name} ${when(at)} ${run.id}`);
    }
    for (const run of manual.filter((m) => m.taskID === task.id)) {
      planned++;
      check(runs.get(run.id), `${task.spec.name} manual ${run.id}`);
    }
  }
  return {
    pendingIDs,
    result: {
      planned,
      ran,
      lost,
      duplicateStarts,
      resumedStarts,
      retriesMissing,
      manualRuns: manual.length,
      retries,
    },
  };
}

/** Structured WARN and ERROR lines of the processes, counted by message. */
function problemsIn(output: string): [string, number][] {
  const counts = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; message?: string; error?: { message?: string } };
      if (entry.level !== 'WARN' && entry.level !== 'ERROR') continue;
      const key = `${entry.level} ${entry.message}${entry.error?.message ? `: ${entry.error.message}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // Not a log line.
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** Instants already sent with a delay (before each task's next run time), and manual runs scheduled ahead. */
async function countDelayed(
  client: Client,
  tasks: Map<string, { id: string; spec: TaskSpec }>,
): Promise<number> {
  const now = Date.now();
  let delayed = 0;
  for (const task of tasks.values()) {
    // The scheduler has sent every instant up to its cursor.
    const stored = await client.call<{ scheduleCursor?: string }>('GET', `/api/v2/tasks/${task.id}`);
    const interval = compileSchedule({ every: task.spec.every });
    for (
      let at = interval.nextAfter(now);
      stored.scheduleCursor && at <= Date.parse(stored.scheduleCursor);
      at = interval.nextAfter(at)
    ) {
      delayed++;
    }
    delayed += (await client.runs(task.id, 100)).filter(
      (r) => r.status === 'scheduled' && Date.parse(r.scheduledFor) > now,
    ).length;
  }
  return delayed;
}

/** The report `npm run chaos` prints and the e2e test logs. */
export function formatAudit(audit: Audit): string {
  const list = (items: string[]) => {
    if (!items.length) return '';
    const byTask = new Map<string, number>();
    for (const item of items)
      byTask.set(item.split(' ')[0] ?? '', (byTask.get(item.split(' ')[0] ?? '') ?? 0) + 1);
    const perTask = [...byTask].map(([task, n]) => `${task} ${n}`).join(', ');
    return ` (${perTask})\n    ${items.slice(0, 6).join('\n    ')}`;
  };
  return [
    `planned ${audit.planned} (${audit.manualRuns} manual), ran ${audit.ran}, policy retries ${audit.retries}`,
    `lost ${audit.lost.length}${list(audit.lost)}`,
    `stranded ${audit.stranded.length}${list(audit.stranded)}`,
    `duplicate starts ${audit.duplicateStarts.length}${list(audit.duplicateStarts)} (resumed after a crash, allowed: ${audit.resumedStarts})`,
    `retries missing ${audit.retriesMissing.length}${list(audit.retriesMissing)}`,
    `cap violations ${audit.capViolations.length}${list(audit.capViolations)}`,
    ...audit.problems.slice(0, 8).map(([problem, count]) => `logged ${count}× ${problem.slice(0, 160)}`),
    ...audit.kills.map(
      (k, i) =>
        `kill ${i + 1}: ${k.callsInFlight} calls in flight, ${k.waitingRuns} waiting, ${k.delayedRuns} accepted for later; down ${((k.restartedAt - k.at) / 1000).toFixed(1)} s`,
    ),
  ].join('\n');
}
