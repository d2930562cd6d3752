import { DEFAULT_EXECUTOR_BATCHING_WINDOW } from '../infra/settings';
import type { Task } from '../lib/task/model';
import { type OpStats, perRun, RequestCounter, type Totals, totals } from './support/counter';
import { type BenchEngine, createBenchEngine, round, type Substrate, sleep } from './support/engine';
import { LogMeter } from './support/log-meter';
import { dueNowSchedule } from './support/tasks';

/**
 * Figure 1: AWS requests per run on the real code path (createScheduler + createExecutor,
 * real stores and queue, a no-op bench runner), counted by an SDK middleware.
 */

export type WorkloadName = 'unlimited' | 'unlimitedLarge' | 'limited' | 'retrying' | 'everySecond';

export interface WorkloadResult {
  name: WorkloadName;
  description: string;
  /** Logical runs (a retried run and its retries count once). */
  runs: number;
  /** Executions (attempts) that reached a terminal outcome. */
  executions: number;
  outcomes: Record<string, number>;
  completed: boolean;
  /** Set when the tick enqueued fewer runs than the workload expected. */
  shortfall?: string | undefined;
  /** Index write units per run, by index name. */
  indexWriteUnits: Record<string, number>;
  wallMs: number;
  /** Per logical run. */
  perRun: Totals;
  lambda: {
    executorInvocations: number;
    averageBatchSize: number;
    executorInvocationsPerRun: number;
    executorMsPerRun: number;
    /** SQS records the executor handled per run (waits and retries deliver a run more than once). */
    executorRecordsPerRun: number;
    schedulerTicks: number;
    schedulerMsPerRun: number;
    invocationsPerRun: number;
    msPerRun: number;
    /** Where in its second the tick started (Date.now() % 1000). */
    tickPhaseMs: number;
  };
  /** What the executor and the tick write to CloudWatch Logs, per logical run. */
  logs: {
    bytesPerRun: number;
    eventsPerRun: number;
    /** The run's own lines: all but each invocation's EMF and START/END/REPORT lines. */
    lineBytesPerRun: number;
    /** What one invocation writes by itself (EMF + START/END/REPORT), on average. */
    bytesPerInvocation: number;
  };
  /** Idle polling of the event source, not attributed to runs. */
  idle: { emptyReceives: number; perPollerPerSecond: number };
}

interface Workload {
  name: WorkloadName;
  description: string;
  /** Runs the one tick should enqueue; fewer is reported as a shortfall. */
  expectedRuns: number;
  /** Waits out up to a minute of SQS delays: runs while the short workloads and `alongside` do. */
  long?: boolean;
  /**
   * Creates the tasks as if at `tickAt`, the moment the one tick will fire; returns how
   * many executions one logical run takes.
   */
  setup(engine: BenchEngine, tickAt: number): Promise<number>;
}

/**
 * SQS delays are whole seconds, rounded to the nearest (ADR 0014), and the executor does
 * not wait out the difference, so the tick's sub-second phase decides how early or late
 * a run starts (up to 500 ms either way), not billed time. The bench fixes the phase at
 * 500 ms, the worst case, so runs of the bench agree.
 */
const TICK_PHASE_MS = 500;

/** The first moment at least `afterMs` from now whose sub-second part is `phase`. */
function nextPhase(phase: number, afterMs: number): number {
  const earliest = Date.now() + afterMs;
  return earliest + ((phase - (earliest % 1000) + 1000) % 1000);
}

/**
 * The offset that makes an `every: 1m` task's next run due `leadMs` after `tickAt`
 * (a whole second when `tickAt` is x.500 and `leadMs` 2,500): a normal minute task
 * whose run comes seconds after the tick instead of up to a minute later.
 */
function minuteOffset(tickAt: number, leadMs = 2_500): string | undefined {
  const runAt = tickAt + leadMs;
  const offsetSeconds = Math.round((runAt % 60_000) / 1000) % 60;
  return offsetSeconds ? `${offsetSeconds}s` : undefined;
}

/**
 * The deployed scheduler plans 15 minutes ahead (docs/decisions/0014): an every-1m task
 * is advanced once per 15 runs. The bench's scheduler plans 60 s ahead, so a task every
 * 4 s gets the same 15 runs per advance within the minute a quick bench can wait.
 */
const RUNS_PER_ADVANCE = 15;
const LOOKAHEAD_EVERY = '4s';
const UNLIMITED_TASKS = 10;
const LARGE_TASKS = 5;
const LARGE_DESCRIPTION = 'x'.repeat(1536);

/**
 * A task that has run before: its last run succeeded an interval before the tick. The
 * plain workloads measure a run of a task in service, whose repeated outcome writes no
 * bookkeeping (docs/decisions/0015); a task's first completion (2 WRU, once per task
 * and per change of outcome) is not a per-run cost. everySecond keeps fresh tasks.
 */
async function established(engine: BenchEngine, task: Task, tickAt: number): Promise<void> {
  const at = new Date(tickAt - 4_000).toISOString();
  await engine.adminStores.tasks.recordCompletion(
    task.id,
    { scheduledFor: at, finishedAt: at, status: 'success' },
    task,
  );
}

const WORKERS = 10;
/** The executor's SQS event source uses batches of up to 10 (infra/task-service.ts). */
const BATCH_SIZE = 10;

const WORKLOADS: Workload[] = [
  {
    name: 'unlimited',
    expectedRuns: UNLIMITED_TASKS * RUNS_PER_ADVANCE,
    long: true,
    description: `${UNLIMITED_TASKS} tasks every 4s (no concurrency limit) that have run before: one tick plans ${RUNS_PER_ADVANCE} runs of each, as the deployed 15-minute lookahead does for an every-1m task`,
    async setup(engine, tickAt) {
      for (let i = 0; i < UNLIMITED_TASKS; i++) {
        const task = await engine.createTask(
          { orgID: 'bench', name: `u${i}`, every: LOOKAHEAD_EVERY },
          tickAt,
        );
        await established(engine, task, tickAt);
      }
      return 1;
    },
  },
  {
    name: 'unlimitedLarge',
    expectedRuns: LARGE_TASKS * RUNS_PER_ADVANCE,
    long: true,
    description: `as unlimited, ${LARGE_TASKS} tasks each with a 1.5 KB description (the size of a Flux script): the task's size must not multiply a run's cost`,
    async setup(engine, tickAt) {
      for (let i = 0; i < LARGE_TASKS; i++) {
        const task = await engine.createTask(
          { orgID: 'bench', name: `l${i}`, every: LOOKAHEAD_EVERY, description: LARGE_DESCRIPTION },
          tickAt,
        );
        await established(engine, task, tickAt);
      }
      return 1;
    },
  },
  {
    name: 'limited',
    expectedRuns: 10,
    description: '1 task with concurrency 2 and catchUp all: 10 runs due at once contend for 2 slots',
    async setup(engine, tickAt) {
      const s = dueNowSchedule(tickAt, 10, 'all');
      const offsetMs = s.offset ? 30 * 60_000 : 0;
      await engine.createTask(
        { orgID: 'bench', name: 'limited', every: s.every, offset: s.offset, catchUp: 'all', concurrency: 2 },
        s.latestScheduled + offsetMs,
      );
      return 1;
    },
  },
  {
    name: 'retrying',
    expectedRuns: 5,
    description: '5 tasks every 1m that always fail, retry {attempts: 2, backoff: 1s}: 3 attempts per run',
    async setup(engine, tickAt) {
      const offset = minuteOffset(tickAt);
      for (let i = 0; i < 5; i++) {
        await engine.createTask(
          {
            orgID: 'bench',
            name: `r${i}`,
            every: '1m',
            offset,
            retry: { attempts: 2, backoff: '1s' },
            metadata: { fail: true },
          },
          tickAt,
        );
      }
      return 3;
    },
  },
  {
    name: 'everySecond',
    expectedRuns: 60,
    long: true,
    description: "1 task every 1s: one tick enqueues the next minute's 60 runs with SQS delays",
    async setup(engine, tickAt) {
      await engine.createTask({ orgID: 'bench', name: 'every-second', every: '1s' }, tickAt);
      return 1;
    },
  },
];

/** One workload alone, at the deployed window (bench/limited-breakdown.ts looks at `limited` this way). */
export function measureWorkload(substrate: Substrate, name: WorkloadName): Promise<WorkloadResult> {
  const workload = WORKLOADS.find((w) => w.name === name);
  if (!workload) throw new Error(`no workload ${name}`);
  return runWorkload(substrate, workload, DEFAULT_EXECUTOR_BATCHING_WINDOW.toMilliseconds());
}

async function runWorkload(
  substrate: Substrate,
  workload: Workload,
  batchingWindowMs: number,
): Promise<WorkloadResult> {
  const counter = new RequestCounter();
  const logs = new LogMeter();
  const engine = await createBenchEngine(substrate, {
    counter,
    logs,
    prefix: `req-${workload.name.toLowerCase()}`,
  });
  try {
    // Setup takes well under 3 s; the tasks' schedule cursors start at the tick's second,
    // so `every: 1s` yields exactly 60 instants and `every: 1m` exactly one.
    const tickAt = nextPhase(TICK_PHASE_MS, 3_000);
    const executionsPerRun = await workload.setup(engine, tickAt);
    counter.reset();
    const started = Date.now();
    const pool = engine.startExecutors(WORKERS, BATCH_SIZE, batchingWindowMs);
    await sleep(Math.max(0, tickAt - Date.now()));
    const tickPhaseMs = Date.now() % 1000;
    const tickStarted = performance.now();
    const report = await logs.invocation(() => engine.scheduler.tick());
    const tickMs = performance.now() - tickStarted;
    // A tick that enqueues fewer runs than the workload made due is reported, not thrown:
    // the figures are then per enqueued run and the shortfall is printed with them.
    const runs = Math.max(1, report.enqueued);
    const shortfall =
      report.enqueued < workload.expectedRuns
        ? `the tick enqueued ${report.enqueued} of ${workload.expectedRuns} expected runs`
        : undefined;
    const expected = runs * executionsPerRun;
    // everySecond and the 1m tasks take up to a minute of SQS delay; retries add 1 s + 2 s.
    const completed = await engine.waitForTerminal(expected, 100_000);
    // Let the last DeleteMessageBatch calls land, then stop polling.
    await sleep(500);
    const pollingMs = Date.now() - started;
    await pool.stop();
    const snapshot: Map<string, OpStats> = counter.snapshot();
    const all = totals(snapshot);
    const outcomes: Record<string, number> = {};
    for (const r of engine.results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    const { invocations, records, handlerMs } = engine.pool;
    return {
      name: workload.name,
      description: workload.description,
      runs,
      executions: engine.terminalCount(),
      outcomes,
      completed,
      shortfall,
      indexWriteUnits: Object.fromEntries(
        Object.entries(counter.indexWriteUnits()).map(([k, v]) => [k, round(v / runs, 3)]),
      ),
      wallMs: Date.now() - started,
      perRun: perRun(all, runs),
      lambda: {
        executorInvocations: invocations,
        averageBatchSize: round(records / Math.max(1, invocations)),
        executorInvocationsPerRun: invocations / runs,
        executorMsPerRun: handlerMs / runs,
        executorRecordsPerRun: records / runs,
        schedulerTicks: 1,
        schedulerMsPerRun: tickMs / runs,
        invocationsPerRun: (invocations + 1) / runs,
        msPerRun: (handlerMs + tickMs) / runs,
        tickPhaseMs,
      },
      logs: {
        bytesPerRun: round(logs.bytes / runs, 0),
        eventsPerRun: round(logs.events / runs),
        lineBytesPerRun: round((logs.bytes - logs.invocationBytes) / runs, 1),
        bytesPerInvocation: round(logs.invocationBytes / Math.max(1, logs.invocations), 1),
      },
      idle: {
        emptyReceives: all.sqsEmptyReceives,
        perPollerPerSecond: round(all.sqsEmptyReceives / WORKERS / (pollingMs / 1000)),
      },
    };
  } finally {
    engine.close();
  }
}

/**
 * All four workloads run side by side (each on its own table, queue, clients and
 * pollers). The first three finish within seconds; `everySecond` then runs alone for
 * most of a minute at one run per second, and `alongside` (if given) runs in that time.
 * The pollers gather for `batchingWindowMs` (the deployed window); `unlimited` runs once
 * more at each of `compareWindowsMs`, side by side, for the window's cost trade-off.
 */
export async function measureRequests(
  substrate: Substrate,
  options: {
    batchingWindowMs: number;
    compareWindowsMs?: readonly number[];
    alongside?: () => Promise<void>;
  },
): Promise<{ workloads: Record<WorkloadName, WorkloadResult>; windows: WindowCost[] }> {
  const window = options.batchingWindowMs;
  const unlimited = WORKLOADS.find((w) => w.name === 'unlimited');
  const compared = (options.compareWindowsMs ?? []).filter((ms) => ms !== window);
  const alternatives = unlimited
    ? compared.map(async (ms) => ({ windowMs: ms, result: await runWorkload(substrate, unlimited, ms) }))
    : [];
  const long = WORKLOADS.filter((w) => w.long).map((w) => runWorkload(substrate, w, window));
  const short = await Promise.all(
    WORKLOADS.filter((w) => !w.long).map((w) => runWorkload(substrate, w, window)),
  );
  if (options.alongside) await options.alongside();
  const results = [...short, ...(await Promise.all(long))];
  const workloads = Object.fromEntries(results.map((r) => [r.name, r])) as Record<
    WorkloadName,
    WorkloadResult
  >;
  const windows = [{ windowMs: window, result: workloads.unlimited }, ...(await Promise.all(alternatives))]
    .map(({ windowMs, result }) => ({
      windowMs,
      deployed: windowMs === window,
      averageBatchSize: result.lambda.averageBatchSize,
      invocationsPerRun: round(result.lambda.invocationsPerRun, 3),
      result,
    }))
    .sort((a, b) => a.windowMs - b.windowMs);
  return { workloads, windows };
}

/** The unlimited workload at one batching window: what the window does to batches and invocations. */
export interface WindowCost {
  windowMs: number;
  deployed: boolean;
  averageBatchSize: number;
  invocationsPerRun: number;
  result: WorkloadResult;
}
