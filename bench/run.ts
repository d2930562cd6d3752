// First: keeps loggers quiet and drops the SDK's Node-version notice before anything loads.
import './support/quiet';
import { spawn } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_EXECUTOR_BATCHING_WINDOW, EXECUTOR_BATCH_SIZE } from '../infra/task-service';
import { measureColdStart } from './cold-start';
import { measureCpu } from './cpu';
import { evaluateGoals } from './goals';
import type { LagResult } from './lag';
import { measureLiveLogs } from './live-logs';
import { writeOutputs } from './output';
import { type BenchResults, renderMarkdown, renderText } from './report';
import { measureRequests, type WindowCost, type WorkloadName, type WorkloadResult } from './requests';
import { formatShardScaling, measureScaling, measureShardWorkers } from './scaling';
import { type EventSource, modelNote, modelRun } from './support/aws-model';
import {
  eventbridgeSchedulerCostPerMillion,
  LAMBDA_ASSUMPTIONS,
  PRICES,
  rotaCostPerMillion,
  stepFunctionsCostPerMillion,
} from './support/cost';
import { EMULATORS, round, startSubstrate } from './support/engine';
import { measureThroughput, opMixFrom } from './throughput';

/**
 * `npm run bench` (full, < 10 min) or `npm run bench -- --quick` (< 2 min) on a 2-core
 * machine. Prints the report, writes bench/results/latest.json (and <mode>.json); a
 * full run also rewrites bench/PERFORMANCE.md.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, 'write-docs': { type: 'boolean', default: false } },
  strict: false,
});
const QUICK = values.quick === true;
/** Only on purpose: the committed copy of the figures (docs/performance.md) is rewritten with --write-docs. */
const WRITE_DOCS = values['write-docs'] === true;

const CONFIG = QUICK
  ? {
      scalingLevels: [1_000, 10_000],
      shardWorkerLevels: [10_000],
      seedBudgetMs: 30_000,
      throughputRuns: 500,
      throughputRounds: 1,
      lag: { tasks: 50, seconds: 20, timeoutMs: 90_000 },
      lagLight: { tasks: 20, seconds: 20, timeoutMs: 90_000 },
      coldStartRepetitions: 3,
      cpuRuns: 100,
    }
  : {
      scalingLevels: [1_000, 10_000, 100_000],
      shardWorkerLevels: [10_000, 100_000],
      seedBudgetMs: 180_000,
      throughputRuns: 2_000,
      throughputRounds: 2,
      lag: { tasks: 500, seconds: 60, timeoutMs: 240_000 },
      lagLight: { tasks: 20, seconds: 20, timeoutMs: 90_000 },
      coldStartRepetitions: 5,
      cpuRuns: 500,
    };

/** The deployed executor event source's window: the lag pollers and the cost model's pollers both gather for it. */
const BATCHING_WINDOW_MS = DEFAULT_EXECUTOR_BATCHING_WINDOW.toMilliseconds();
/** The windows the unlimited workload is also run at, for the window's cost trade-off (docs/decisions/0026). */
const COMPARED_WINDOWS_MS = [0, 1000];

const started = Date.now();
const progress = (message: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);

/** Runs bench/lag.ts in its own process, so its load (emulators, pollers, 500 tasks) does not skew the other figures. */
function runLag(options: {
  tasks: number;
  seconds: number;
  timeoutMs: number;
}): Promise<LagResult | { error: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join('bench', 'lag.ts'),
        '--tasks',
        String(options.tasks),
        '--seconds',
        String(options.seconds),
        '--batching-window',
        String(BATCHING_WINDOW_MS),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep the tail only: Powertools prints a notice per executor invocation.
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('LAG_RESULT '));
      if (line) return resolve(JSON.parse(line.slice('LAG_RESULT '.length)) as LagResult);
      const why = signal ? `killed after ${options.timeoutMs / 1000} s` : `exit ${code}`;
      const detail = stderr
        .split('\n')
        .filter((l) => l.trim() && !l.includes('No application metrics'))
        .slice(-3)
        .join(' ');
      resolve({ error: `lag run failed (${why}): ${detail}` });
    });
  });
}

function requestsEntry(w: WorkloadResult) {
  const p = w.perRun;
  return {
    description: w.description,
    runs: w.runs,
    dynamodbReads: round(p.dynamodbReads, 3),
    dynamodbReadUnits: round(p.dynamodbReadUnits, 3),
    dynamodbWrites: round(p.dynamodbWrites, 3),
    dynamodbWriteUnits: round(p.dynamodbWriteUnits, 3),
    dynamodbGsiWriteUnits: round(p.dynamodbGsiWriteUnits, 3),
    dynamodbConditionalFailures: round(p.dynamodbConditionalFailures, 3),
    sqsRequests: round(p.sqsRequests, 3),
    lambdaInvocations: round(w.lambda.invocationsPerRun, 3),
    lambdaMs: round(w.lambda.msPerRun, 1),
    byOperation: Object.fromEntries(Object.entries(p.byOperation).map(([k, v]) => [k, round(v, 3)])),
    bySource: Object.fromEntries(
      Object.entries(p.bySource).map(([s, ops]) => [
        s,
        Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, round(v, 3)])),
      ]),
    ),
    outcomes: w.outcomes,
    executions: w.executions,
    averageBatchSize: w.lambda.averageBatchSize,
    completed: w.completed,
    idleEmptyReceivesPerPollerPerSecond: w.idle.perPollerPerSecond,
    logBytes: w.logs.bytesPerRun,
    tickPhaseMs: w.lambda.tickPhaseMs,
    indexWriteUnits: w.indexWriteUnits,
    shortfall: w.shortfall,
  };
}

async function main() {
  const cpuList = cpus();
  const machine: BenchResults['machine'] = {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    loadAverageAtStart: loadavg().map((x) => round(x, 2)),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    timestamp: new Date().toISOString(),
  };
  progress(`mode ${QUICK ? 'quick' : 'full'}; emulators ${EMULATORS.dynamodb} + ${EMULATORS.sqs}`);

  // 1. Requests per run. Three workloads take seconds; everySecond then runs alone for
  // most of a minute at one run a second. Quick mode uses that minute for the lag child
  // (its own process, and core).
  progress('1. requests per run: 4 workloads side by side (everySecond takes a minute of SQS delays)');
  const substrate = await startSubstrate();
  let lagQuick: LagResult | { error: string } | undefined;
  let lagLightQuick: LagResult | { error: string } | undefined;
  const alongside = QUICK
    ? async () => {
        progress(
          `4. lag (quick): ${CONFIG.lag.tasks} tasks for ${CONFIG.lag.seconds} s in a child process, while everySecond runs`,
        );
        lagQuick = await runLag(CONFIG.lag);
        progress(
          `4. lag at light load (quick): ${CONFIG.lagLight.tasks} tasks for ${CONFIG.lagLight.seconds} s`,
        );
        lagLightQuick = await runLag(CONFIG.lagLight);
      }
    : undefined;
  let workloads: Record<WorkloadName, WorkloadResult>;
  let windows: WindowCost[];
  try {
    ({ workloads, windows } = await measureRequests(substrate, {
      batchingWindowMs: BATCHING_WINDOW_MS,
      compareWindowsMs: COMPARED_WINDOWS_MS,
      alongside,
    }));
  } finally {
    await substrate.stop();
  }

  progress(`1b. Rota CPU per run: ${CONFIG.cpuRuns} runs, the emulators on another thread`);
  const cpu = await measureCpu(CONFIG.cpuRuns);

  progress(`2. scheduler scaling: ${CONFIG.scalingLevels.join(', ')} stored tasks`);
  const scaling = await measureScaling(CONFIG.scalingLevels, CONFIG.seedBudgetMs);
  progress(`2b. scheduler fan-out: one shard worker at ${CONFIG.shardWorkerLevels.join(', ')} due tasks`);
  const shardScaling = await measureShardWorkers(CONFIG.shardWorkerLevels);
  for (const line of formatShardScaling(shardScaling)) progress(line);

  progress(`3. throughput: ${CONFIG.throughputRuns} runs, Rota then the bare emulators`);
  const mix = opMixFrom(workloads.unlimited.perRun);
  const rounds = [];
  for (let i = 0; i < CONFIG.throughputRounds; i++)
    rounds.push(await measureThroughput(CONFIG.throughputRuns, mix));
  // On a shared machine the least disturbed round is the most faithful one.
  const best = rounds.reduce((a, b) => (b.rotaRunsPerSec > a.rotaRunsPerSec ? b : a));
  const bestSubstrate = Math.max(...rounds.map((r) => r.substrateRunsPerSec));
  const throughput = {
    ...best,
    substrateRunsPerSec: bestSubstrate,
    ratio: round(best.rotaRunsPerSec / bestSubstrate, 2),
    rounds: rounds.map((r) => ({
      rotaRunsPerSec: r.rotaRunsPerSec,
      substrateRunsPerSec: r.substrateRunsPerSec,
    })),
  };

  let lag: BenchResults['lag'];
  let lagLight: BenchResults['lagLight'];
  if (lagQuick) {
    lag =
      'error' in lagQuick
        ? lagQuick
        : {
            ...lagQuick,
            note: "quick mode: measured while figure 1's everySecond workload ran in the parent process",
          };
    lagLight = lagLightQuick;
  } else {
    progress(
      `4. lag: ${CONFIG.lag.tasks} tasks every 1s for ${CONFIG.lag.seconds} s in local mode (child process)`,
    );
    lag = await runLag(CONFIG.lag);
    progress(`4. lag at light load: ${CONFIG.lagLight.tasks} tasks for ${CONFIG.lagLight.seconds} s`);
    lagLight = await runLag(CONFIG.lagLight);
  }

  progress(
    `5. cold start: bundling every function the construct deploys, ${CONFIG.coldStartRepetitions} imports each`,
  );
  const cold = await measureColdStart(CONFIG.coldStartRepetitions);

  progress('6. live logs: the flushes of a started run, by run length and lines (virtual clock, dynalite)');
  const liveLogs = await measureLiveLogs();

  // Cost per million runs: on AWS timing, at the deployed event source's batches.
  const eventSource: EventSource = {
    batchSize: EXECUTOR_BATCH_SIZE,
    batchingWindowMs: BATCHING_WINDOW_MS,
  };
  const footprint = (w: WorkloadResult, source: EventSource = eventSource) =>
    modelRun(
      {
        dynamodbReadUnits: w.perRun.dynamodbReadUnits,
        dynamodbWriteUnits: w.perRun.dynamodbWriteUnits,
        bySource: w.perRun.bySource,
        executorRecords: w.lambda.executorRecordsPerRun,
        schedulerTicks: w.lambda.schedulerTicks / w.runs,
        lineBytes: w.logs.lineBytesPerRun,
        bytesPerInvocation: w.logs.bytesPerInvocation,
      },
      cpu,
      source,
    );
  /** As the bench's own pollers batched, and timed on the emulators: printed beside the model. */
  const measuredFootprint = (w: WorkloadResult) => ({
    dynamodbReadUnits: w.perRun.dynamodbReadUnits,
    dynamodbWriteUnits: w.perRun.dynamodbWriteUnits,
    sqsRequests: w.perRun.sqsRequests,
    lambdaInvocations: w.lambda.invocationsPerRun,
    lambdaMs: w.lambda.msPerRun,
    logBytes: w.logs.bytesPerRun,
  });
  const roundCost = (c: ReturnType<typeof rotaCostPerMillion>) => ({
    dynamodb: round(c.dynamodb, 3),
    sqs: round(c.sqs, 3),
    lambda: round(c.lambda, 3),
    logs: round(c.logs, 3),
    total: round(c.total, 3),
  });
  const rotaByWorkload = Object.fromEntries(
    Object.entries(workloads).map(([name, w]) => [name, roundCost(rotaCostPerMillion(footprint(w)))]),
  ) as BenchResults['costPerMillionRuns']['rotaByWorkload'];
  // Each window priced on AWS timing at the batches the bench's pollers filled with it, not full ones.
  const batchingWindows: BenchResults['batchingWindows'] = windows.map((w) => ({
    windowMs: w.windowMs,
    deployed: w.deployed,
    averageBatchSize: w.averageBatchSize,
    invocationsPerRun: w.invocationsPerRun,
    costPerMillion: roundCost(
      rotaCostPerMillion(
        footprint(w.result, { batchSize: w.averageBatchSize, batchingWindowMs: w.windowMs }),
      ),
    ),
  }));
  const unlimitedModel = footprint(workloads.unlimited);
  const unlimitedAsMeasured = roundCost(rotaCostPerMillion(measuredFootprint(workloads.unlimited)));
  const eb = eventbridgeSchedulerCostPerMillion();
  const sfn = stepFunctionsCostPerMillion();

  const requestsPerRun = Object.fromEntries(
    Object.entries(workloads).map(([name, w]) => [name, requestsEntry(w)]),
  ) as BenchResults['requestsPerRun'];
  const unlimited = requestsPerRun.unlimited;
  const idle = workloads.unlimited.idle.perPollerPerSecond;

  const checks: BenchResults['checks'] = [];
  checks.push({
    check: 'DynamoDB writes per unlimited run ≤ 4',
    ok: unlimited.dynamodbWrites <= 4,
    detail: `${unlimited.dynamodbWrites} writes, ${unlimited.dynamodbWriteUnits} WRU (GSI part ${unlimited.dynamodbGsiWriteUnits})`,
  });
  const firstScale = scaling.points[0];
  const lastScale = scaling.points.at(-1);
  checks.push({
    check: 'scheduler items read flat in stored tasks',
    ok: !!firstScale && !!lastScale && lastScale.itemsRead <= firstScale.itemsRead * 1.5,
    detail: `${firstScale?.itemsRead} items at ${firstScale?.tasks} tasks, ${lastScale?.itemsRead} at ${lastScale?.tasks}`,
  });
  const million = shardScaling.million;
  checks.push({
    check: '1M every-1m tasks fit in the tick with headroom',
    ok: million.ok,
    detail: `${shardScaling.points.map((p) => `${p.tasksPerSecond} tasks/s per shard worker at ${p.dueTasks} due`).join(', ')}; ${million.dueShards} shards: ${million.secondsPerShardWorker} s of the ${million.tickSeconds} s tick, ${million.wruPerSecondPerDuePartition} WRU/s per due partition`,
  });
  checks.push({
    check: 'throughput ratio ≥ 0.5',
    ok: throughput.ratio >= 0.5,
    detail: `${throughput.rotaRunsPerSec} vs ${throughput.substrateRunsPerSec} runs/s = ${throughput.ratio}`,
  });
  const big = cold.bundles.filter((b) => b.bytes > 1024 * 1024);
  checks.push({
    check: 'every bundle < 1 MiB',
    ok: big.length === 0 && cold.bundles.every((b) => !b.error),
    detail:
      big.length || cold.bundles.some((b) => b.error)
        ? [
            ...big.map((b) => `${b.function} ${b.bytes} B`),
            ...cold.bundles.filter((b) => b.error).map((b) => `${b.function}: ${b.error}`),
          ].join('; ')
        : `largest ${Math.max(...cold.bundles.map((b) => b.bytes))} B`,
  });
  if (!('error' in lag)) {
    checks.push({
      check: 'local mode keeps up with the lag load',
      ok: lag.fractionRan >= 0.95,
      detail: `${(lag.fractionRan * 100).toFixed(1)} % of ${lag.expected} instants ran, p50 ${lag.p50Ms} ms`,
    });
  }

  const partial: Omit<BenchResults, 'goals'> = {
    machine,
    mode: QUICK ? 'quick' : 'full',
    durationMs: 0,
    emulators: { dynamodb: EMULATORS.dynamodb, sqs: EMULATORS.sqs },
    requestsPerRun,
    requestsNotes: [
      'λ inv = executor invocations (1 / average batch size) + the scheduler tick, per run; λ ms = billed handler time per run (executor + tick), measured on the emulators',
      'λ ms is handler time only: delays round to the nearest second and the executor never waits for an early message (ADR 0014)',
      "Logs: bytes CloudWatch Logs ingests per run (26 B per event included): the executor's and scheduler's Powertools lines at INFO with a deployed function's context, the executor's EMF metrics, and Lambda's START/END/REPORT lines per invocation (modelled from the documented text format, with X-Ray)",
      "DDB WRU: computed from each written item read before and after the write: table part + every GSI's (tableDefinition's indexes and projections; a moved index key = delete + put); failed conditional writes billed by the item they looked at",
      `SQS req: scheduler/executor sends + the event source's non-empty ReceiveMessage and DeleteMessageBatch; idle long polls (${idle} empty receives per poller per second here) are a fixed cost per poller, not per run`,
      'retrying: per logical run (3 attempts); limited: includes the re-enqueues of runs waiting for a slot',
      modelNote(cpu, eventSource),
    ],
    costPerMillionRuns: {
      rota: rotaByWorkload.unlimited.total,
      rotaByWorkload,
      eventbridgeScheduler: round(eb.total, 3),
      stepFunctions: round(sfn.total, 3),
      breakdown: {
        eventbridgeScheduler: { scheduler: eb.scheduler, lambda: round(eb.lambda, 3) },
        stepFunctions: { transitions: sfn.transitions, lambda: round(sfn.lambda, 3) },
      },
      prices: { ...PRICES },
      logs: {
        bytesPerRun: round(unlimitedModel.logBytes, 0),
        perMillion: rotaByWorkload.unlimited.logs,
      },
      unlimitedAsMeasured,
      awsModel: {
        eventSource,
        cpu,
        unlimited: {
          sqsRequests: round(unlimitedModel.sqsRequests, 3),
          lambdaInvocations: round(unlimitedModel.lambdaInvocations, 3),
          executorMs: round(unlimitedModel.executorMs, 2),
          schedulerMs: round(unlimitedModel.schedulerMs, 2),
          logBytes: round(unlimitedModel.logBytes, 0),
        },
      },
      assumptions: { ...LAMBDA_ASSUMPTIONS, region: 'us-east-1', architecture: 'arm64' },
    },
    schedulerScaling: scaling.points,
    schedulerScalingNote: scaling.note,
    throughput,
    batchingWindows,
    lag,
    lagLight,
    bundles: cold.bundles,
    baseline: cold.baseline,
    bundling: {
      bundler: cold.bundler,
      target: cold.target,
      nodeOptions: cold.nodeOptions,
      repetitions: cold.repetitions,
    },
    liveLogs,
    checks,
  };
  const goals = evaluateGoals({
    results: partial,
    batchingWindowMs: BATCHING_WINDOW_MS,
    scaling: shardScaling,
  });
  const results: BenchResults = { ...partial, goals };
  results.durationMs = Date.now() - started;

  const written = writeOutputs(
    ROOT,
    { mode: results.mode, json: `${JSON.stringify(results, null, 2)}\n`, markdown: renderMarkdown(results) },
    { writeDocs: WRITE_DOCS },
  );
  process.stdout.write(`${renderText(results)}\n`);
  progress(`done in ${(results.durationMs / 1000).toFixed(0)} s; wrote ${written.join(', ')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
