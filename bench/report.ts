import type { ColdStartResult } from './cold-start';
import type { Goal } from './goals';
import type { LagResult } from './lag';
import type { LiveLogPoint } from './live-logs';
import type { WorkloadName } from './requests';
import type { ScalingPoint } from './scaling';
import type { ThroughputResult } from './throughput';

/** Everything `npm run bench` writes to bench/results/latest.json. */
export interface BenchResults {
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    loadAverageAtStart: number[];
    node: string;
    platform: string;
    timestamp: string;
  };
  mode: 'quick' | 'full';
  durationMs: number;
  emulators: { dynamodb: string; sqs: string };
  requestsPerRun: Record<
    WorkloadName,
    {
      description: string;
      runs: number;
      dynamodbReads: number;
      dynamodbReadUnits: number;
      dynamodbWrites: number;
      dynamodbWriteUnits: number;
      dynamodbGsiWriteUnits: number;
      dynamodbConditionalFailures: number;
      sqsRequests: number;
      lambdaInvocations: number;
      lambdaMs: number;
      byOperation: Record<string, number>;
      bySource: Record<string, Record<string, number>>;
      outcomes: Record<string, number>;
      executions: number;
      averageBatchSize: number;
      completed: boolean;
      idleEmptyReceivesPerPollerPerSecond: number;
      /** Bytes CloudWatch Logs ingests per run. */
      logBytes: number;
      tickPhaseMs: number;
      /** Index write units per run, by index name. */
      indexWriteUnits: Record<string, number>;
      /** Set when the tick enqueued fewer runs than the workload expected. */
      shortfall?: string | undefined;
    }
  >;
  requestsNotes: string[];
  /** What live logs add per run (bench/live-logs.ts); absent in results from before issue 15. */
  liveLogs?: { points: LiveLogPoint[]; flushDelayMs: number } | undefined;
  costPerMillionRuns: {
    /** Rota, unlimited workload. */
    rota: number;
    rotaByWorkload: Record<
      WorkloadName,
      { dynamodb: number; sqs: number; lambda: number; logs: number; total: number }
    >;
    eventbridgeScheduler: number;
    stepFunctions: number;
    breakdown: {
      eventbridgeScheduler: { scheduler: number; lambda: number };
      stepFunctions: { transitions: number; lambda: number };
    };
    prices: Record<string, number>;
    /** CloudWatch Logs per unlimited run, metered from the engine's log output (included in `rota`). */
    logs: { bytesPerRun: number; perMillion: number };
    /** The unlimited workload as the bench's pollers batched it, timed on the emulators (not AWS). */
    unlimitedAsMeasured?: { dynamodb: number; sqs: number; lambda: number; logs: number; total: number };
    /** The AWS timing model's inputs and per-run outputs (bench/support/aws-model.ts). */
    awsModel?: {
      eventSource: { batchSize: number; batchingWindowMs: number };
      cpu: { executorCpuMsPerRun: number; schedulerCpuMsPerAdvance: number };
      unlimited: {
        sqsRequests: number;
        lambdaInvocations: number;
        executorMs: number;
        schedulerMs: number;
        logBytes: number;
      };
    };
    assumptions: Record<string, number | string>;
  };
  schedulerScaling: ScalingPoint[];
  schedulerScalingNote?: string | undefined;
  throughput: ThroughputResult & { rounds: { rotaRunsPerSec: number; substrateRunsPerSec: number }[] };
  /**
   * The unlimited workload at the deployed batching window and the others compared
   * (docs/decisions/0026); absent in results from before it.
   */
  batchingWindows?:
    | {
        windowMs: number;
        deployed: boolean;
        averageBatchSize: number;
        invocationsPerRun: number;
        costPerMillion: { dynamodb: number; sqs: number; lambda: number; logs: number; total: number };
      }[]
    | undefined;
  lag: (LagResult & { note?: string }) | { error: string };
  lagLight?: LagResult | { error: string } | undefined;
  bundles: ColdStartResult['bundles'];
  baseline: ColdStartResult['baseline'];
  bundling: { bundler: string; target: string; nodeOptions: string; repetitions: number };
  checks: { check: string; ok: boolean; detail: string }[];
  /** Issue 14's goals, each `ok` or `POOR` (bench/goals.ts). */
  goals: Goal[];
}

const n = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || Number.isNaN(x)
    ? '–'
    : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const int = (x: number | null | undefined) => n(x, 0);
const ratio = (a: number | null | undefined, b: number | null | undefined, digits = 2) =>
  a === null || a === undefined || !b ? '–' : `${n(a / b, digits)}×`;

/** A fixed-width text table. */
function table(headers: string[], rows: string[][], alignLeft = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < alignLeft ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)) as string)
      .join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A markdown table. */
function md(headers: string[], rows: string[][], alignLeft = 1): string {
  const sep = headers.map((_, i) => (i < alignLeft ? '---' : '---:'));
  return [headers, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const WORKLOADS: WorkloadName[] = ['unlimited', 'unlimitedLarge', 'limited', 'retrying', 'everySecond'];

interface Tables {
  requests: { headers: string[]; rows: string[][] };
  cost: { headers: string[]; rows: string[][] };
  scaling: { headers: string[]; rows: string[][] };
  throughput: { headers: string[]; rows: string[][] };
  lag: { headers: string[]; rows: string[][] };
  bundles: { headers: string[]; rows: string[][] };
}

function tables(r: BenchResults): Tables {
  const unlimited = r.requestsPerRun.unlimited;
  const requests = {
    headers: [
      'workload',
      'runs',
      'DDB reads',
      'DDB RRU',
      'DDB writes',
      'DDB WRU',
      'SQS req',
      'λ inv',
      'λ ms',
      'writes vs unlimited',
    ],
    rows: WORKLOADS.map((w) => {
      const x = r.requestsPerRun[w];
      return [
        w,
        int(x.runs),
        n(x.dynamodbReads),
        n(x.dynamodbReadUnits),
        n(x.dynamodbWrites),
        n(x.dynamodbWriteUnits),
        n(x.sqsRequests),
        n(x.lambdaInvocations),
        n(x.lambdaMs, 1),
        ratio(x.dynamodbWrites, unlimited.dynamodbWrites),
      ];
    }),
  };
  const c = r.costPerMillionRuns;
  const cost = {
    headers: [
      'per million runs',
      'DynamoDB $',
      'SQS $',
      'Lambda $',
      'Logs $',
      'other $',
      'total $',
      'vs Rota unlimited',
    ],
    rows: [
      ...WORKLOADS.map((w) => {
        const x = c.rotaByWorkload[w];
        return [
          `Rota, ${w}`,
          n(x.dynamodb),
          n(x.sqs),
          n(x.lambda),
          n(x.logs),
          '–',
          n(x.total),
          ratio(x.total, c.rota),
        ];
      }),
      ...(c.unlimitedAsMeasured
        ? [
            [
              'Rota, unlimited, bench batches and emulator ms',
              n(c.unlimitedAsMeasured.dynamodb),
              n(c.unlimitedAsMeasured.sqs),
              n(c.unlimitedAsMeasured.lambda),
              n(c.unlimitedAsMeasured.logs),
              '–',
              n(c.unlimitedAsMeasured.total),
              ratio(c.unlimitedAsMeasured.total, c.rota),
            ],
          ]
        : []),
      [
        'EventBridge Scheduler → Lambda',
        '–',
        '–',
        n(c.breakdown.eventbridgeScheduler.lambda),
        '–',
        n(c.breakdown.eventbridgeScheduler.scheduler),
        n(c.eventbridgeScheduler),
        ratio(c.eventbridgeScheduler, c.rota),
      ],
      [
        'Step Functions Standard (3 transitions) → Lambda',
        '–',
        '–',
        n(c.breakdown.stepFunctions.lambda),
        '–',
        n(c.breakdown.stepFunctions.transitions),
        n(c.stepFunctions),
        ratio(c.stepFunctions, c.rota),
      ],
    ],
  };
  const first = r.schedulerScaling[0];
  const scaling = {
    headers: ['stored tasks', 'due', 'items read', 'queries', 'tick ms', 'items read / due', 'ms vs first'],
    rows: r.schedulerScaling.map((p) => [
      int(p.tasks),
      int(p.due),
      int(p.itemsRead),
      int(p.queries),
      n(p.ms, 0),
      ratio(p.itemsRead, p.due),
      ratio(p.ms, first?.ms),
    ]),
  };
  const t = r.throughput;
  const throughput = {
    headers: [
      'runs',
      'pollers',
      'Rota runs/s',
      'substrate runs/s',
      'Rota / substrate',
      'CPU ms/run Rota',
      'CPU ms/run substrate',
      'scheduler tasks/s',
    ],
    rows: [
      [
        int(t.runs),
        `${t.workers}×${t.batchSize}`,
        n(t.rotaRunsPerSec, 1),
        n(t.substrateRunsPerSec, 1),
        n(t.ratio),
        n(t.cpuMsPerRun.rota, 1),
        n(t.cpuMsPerRun.substrate, 1),
        n(t.schedulerTasksPerSec, 0),
      ],
    ],
  };
  const lagRow = (label: string, l: LagResult | { error: string } | undefined) => {
    if (!l) return undefined;
    if ('error' in l) return [label, '–', '–', '–', '–', '–', '–', '–', '–', '–', l.error.slice(0, 60)];
    return [
      label,
      int(l.tasks),
      int(l.seconds),
      `${int(l.runs)} / ${int(l.expected)}`,
      `${n(l.fractionRan * 100, 1)} %`,
      int(l.p50Ms),
      int(l.p99Ms),
      int(l.maxMs),
      `${l.process.cpuPercentOfOneCore} %`,
      `p50 ${int(l.target.p50Ms)}, p99 ${int(l.target.p99Ms)}`,
      `${n(l.executedInWindow.runsPerSec, 1)} runs/s, ${int(l.executedInWindow.lagP50Ms)} ms late`,
    ];
  };
  const lag = {
    headers: [
      'local mode',
      'tasks',
      'seconds',
      'ran / instants',
      'ran',
      'p50 ms',
      'p99 ms',
      'max ms',
      'CPU',
      'at target ms',
      'done during window',
    ],
    rows: [lagRow('requested load', r.lag), lagRow('light load', r.lagLight)].filter(
      (row): row is string[] => row !== undefined,
    ),
  };
  const b = r.baseline;
  const bundles = {
    headers: [
      'bundle',
      'bytes',
      'KiB',
      'lazy KiB',
      'size vs baseline',
      'init ms',
      'init vs baseline',
      'process ms',
    ],
    rows: [...r.bundles, b].map((x) => [
      x.function === 'baseline' ? 'baseline (1-line middy)' : x.function,
      x.error ? 'error' : int(x.bytes),
      n(x.bytes / 1024, 1),
      x.lazyBytes === undefined ? '–' : n(x.lazyBytes / 1024, 1),
      x.function === 'baseline' ? '1×' : ratio(x.bytes, b.bytes, 0),
      n(x.initMs, 1),
      x.function === 'baseline' ? '1×' : ratio(x.initMs, b.initMs, 1),
      n(x.processMs, 0),
    ]),
  };
  return { requests, cost, scaling, throughput, lag, bundles };
}

/** The report printed to stdout. */
export function renderText(r: BenchResults): string {
  const t = tables(r);
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `Rota bench (${r.mode}) ${m.timestamp}: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, node ${m.node}, ` +
      `load ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join('/')} at start; took ${n(r.durationMs / 1000, 0)} s`,
  );
  out.push(`Emulators: DynamoDB = ${r.emulators.dynamodb}, SQS = ${r.emulators.sqs}`);
  out.push('');
  out.push(
    '1. AWS requests per run (real scheduler + executor + stores + queue, no-op runner; per logical run)',
  );
  out.push(table(t.requests.headers, t.requests.rows));
  for (const note of r.requestsNotes) out.push(`   - ${note}`);
  out.push('');
  out.push(
    '   Cost per million runs, us-east-1 list prices, on AWS timing (the last note above); one row as measured on the emulators',
  );
  out.push(table(t.cost.headers, t.cost.rows));
  for (const line of windowLines(r)) out.push(`   - ${line}`);
  out.push('');
  out.push('2. Scheduler tick with 100 due tasks');
  out.push(table(t.scaling.headers, t.scaling.rows, 0));
  if (r.schedulerScalingNote) out.push(`   - ${r.schedulerScalingNote}`);
  out.push('');
  out.push('3. Throughput, scheduler → SQS → executor pollers → no-op runner, vs the emulators alone');
  out.push(table(t.throughput.headers, t.throughput.rows, 0));
  out.push('');
  out.push('4. Schedule lag in local mode (startedAt − runAt), every: 1s tasks, http target on loopback');
  out.push(table(t.lag.headers, t.lag.rows));
  if ('note' in r.lag && r.lag.note) out.push(`   - ${r.lag.note}`);
  out.push('');
  out.push(
    `5. Cold start: bundle size and import time in a fresh node (median of ${r.bundling.repetitions}; ${r.bundling.bundler}, target ${r.bundling.target}, NODE_OPTIONS=${r.bundling.nodeOptions})`,
  );
  out.push(table(t.bundles.headers, t.bundles.rows));
  out.push('');
  if (r.liveLogs) {
    out.push(
      `6. Live logs: WRU a started run adds by flushing its lines (every ${r.liveLogs.flushDelayMs} ms while new ones wait; virtual clock, real writes on dynalite)`,
    );
    out.push(table(LIVE_LOG_HEADERS, liveLogRows(r.liveLogs.points), 0));
    out.push('');
  }
  out.push('Checks');
  for (const c of r.checks) out.push(`  ${c.ok ? 'ok  ' : 'POOR'} ${c.check}: ${c.detail}`);
  out.push('', 'Goals (issue 14)');
  for (const g of r.goals) out.push(`  ${g.ok ? 'ok  ' : 'POOR'} ${g.goal}: ${g.figure}`);
  for (const [name, w] of Object.entries(r.requestsPerRun))
    if (w.shortfall) out.push(`  note ${name}: ${w.shortfall}`);
  if (r.throughput.shortfall) out.push(`  note throughput: ${r.throughput.shortfall}`);
  return out.join('\n');
}

/** The executor event source's batching window: what each compared window does to an unlimited run. */
function windowLines(r: BenchResults): string[] {
  return (r.batchingWindows ?? []).map(
    (w) =>
      `batching window ${w.windowMs} ms${w.deployed ? ' (deployed)' : ''}: unlimited batches of ${n(w.averageBatchSize)}, ${n(w.invocationsPerRun, 3)} λ inv/run, $${n(w.costPerMillion.total, 3)} per million (Lambda $${n(w.costPerMillion.lambda, 3)}, Logs $${n(w.costPerMillion.logs, 3)})`,
  );
}

/** The ready-to-paste "## Performance" section for the main README. */
const LIVE_LOG_HEADERS = ['run', 'lines', 'flushes', 'flush WRU', 'bigger-item WRU', 'added WRU'];
const liveLogRows = (points: LiveLogPoint[]) =>
  points.map((p) => [
    p.runSeconds >= 60 ? `${p.runSeconds / 60} min` : `${p.runSeconds} s`,
    String(p.lines),
    String(p.flushes),
    String(p.flushWru),
    String(p.biggerItemWru),
    String(p.addedWru),
  ]);

export function renderMarkdown(r: BenchResults): string {
  const t = tables(r);
  const m = r.machine;
  const u = r.requestsPerRun.unlimited;
  const c = r.costPerMillionRuns;
  const s = r.schedulerScaling;
  const last = s.at(-1);
  const lag = 'error' in r.lag ? undefined : r.lag;
  const light = r.lagLight && !('error' in r.lagLight) ? r.lagLight : undefined;
  const executor = r.bundles.find((b) => b.function === 'executor');
  return `## Performance

Measured by \`npm run bench\` (bench/README.md explains every figure; \`npm run bench -- --quick\`
is a shorter pass) on ${m.cpus} × ${m.cpuModel}, node ${m.node}, ${m.timestamp.slice(0, 10)}, against
in-process emulators: dynalite for DynamoDB and fauxqs for SQS. Emulator latencies are not
AWS latencies: the request counts and their ratios carry over to AWS, the milliseconds
only roughly.

### Requests and cost per run

Counted with an AWS SDK middleware on the real code path (scheduler, executor, stores,
queue, with a no-op runner), per logical run. WRU: the table part as the emulator
reports it, the GSI part estimated (the task item is in \`byOrgType\`, projection ALL, and in \`due\`, which projects only the scheduling fields).
SQS includes the event source's non-empty ReceiveMessage and DeleteMessageBatch calls;
idle polling is a fixed cost per poller and is left out.

${md(t.requests.headers, t.requests.rows)}

A plain run costs ${n(u.dynamodbWrites, 2)} DynamoDB writes (${n(u.dynamodbWriteUnits, 2)} write units): the
executor's claim and finish of the run item, and a fifteenth of the scheduler's advance of
the task (15 runs per advance, as the deployed 15-minute lookahead gives an every-1m task),
which rewrites its \`due\` and \`byOrgType\` entries. The task's completion bookkeeping is
written only when a run changes the outcome (docs/decisions/0015), so a run that repeats it
writes nothing to the task. \`everySecond\` shares one advance among 60 runs;
\`limited\` pays for lease slots and for re-enqueueing runs that wait; \`retrying\` is three
executions plus two retry records.

${md(t.cost.headers, t.cost.rows)}
${windowLines(r)
  .map((line) => `\n- ${line}`)
  .join('')}

DynamoDB is ${n((c.rotaByWorkload.unlimited.dynamodb / c.rota) * 100, 0)} % of a plain run's cost. Lambda: ${c.assumptions.memoryMb} MB arm64,
invocations per run = 1 / average batch size plus the scheduler tick's share, billed time
per run measured on the emulators (handler time only: delays round to the nearest second
and the executor never waits for an early message). Logs: ${int(c.logs.bytesPerRun)} bytes ingested per
run at $${c.prices.cloudwatchLogsPerGbIngested}/GB, metered from the real Powertools logger and metrics at the deployed
level plus Lambda's START/END/REPORT lines per invocation. The alternatives invoke one
Lambda per run, assumed ${c.assumptions.alternativeTargetDurationMs} ms, and their logs are left out. Not included:
storage, X-Ray, data transfer, idle polling.

### Scheduler scaling

One tick with 100 due tasks among N stored tasks. The tick reads only the sparse \`due\`
index, so the items it reads do not grow with the tasks stored.

${md(t.scaling.headers, t.scaling.rows, 0)}
${r.schedulerScalingNote ? `\n${r.schedulerScalingNote}\n` : ''}
${last ? `From ${int(s[0]?.tasks)} to ${int(last.tasks)} stored tasks the tick reads ${int(s[0]?.itemsRead)} → ${int(last.itemsRead)} items.` : ''}

### Throughput

Runs per second end to end (one tick → SQS → ${r.throughput.workers} pollers × batches of ${r.throughput.batchSize} →
no-op runner), beside the same emulators doing the same requests per run with no Rota
code. Everything shares one Node.js process, so the ratio is the figure that matters.
"scheduler tasks/s" is how fast the one tick advanced and enqueued the ${int(r.throughput.runs)} due tasks
while the executors ran.

${md(t.throughput.headers, t.throughput.rows, 0)}

### Schedule lag (local mode)

\`npm start\`'s engine (one process, in-process emulators), \`every: 1s\` tasks with an http
target on loopback; lag = \`startedAt − runAt\`.

${md(t.lag.headers, t.lag.rows)}

${
  lag && lag.fractionRan < 0.9
    ? `${int(lag.tasks)} runs a second is more than one local-mode process can do on this machine: ${n(lag.fractionRan * 100, 1)} % of the window's instants ran, with the process at ${lag.process.cpuPercentOfOneCore} % of a core; during the window it completed ${n(lag.executedInWindow.runsPerSec, 1)} runs a second, ${n((lag.executedInWindow.lagP50Ms ?? 0) / 1000, 1)} s late (p50). The throughput figure above shows the ceiling: the bare emulators alone manage about ${n(r.throughput.substrateRunsPerSec, 0)} runs a second in this one process, so this load cannot be met locally whatever Rota does; on AWS the same work spreads over DynamoDB, SQS and up to \`executorMaxConcurrency\` Lambdas. `
    : ''
}${light ? `At ${int(light.tasks)} tasks a second it keeps up, with a p50 of ${int(light.p50Ms)} ms (from run to run it moves between a few ms and about 500 ms with the phase of the local scheduler tick).` : ''}

### Cold start

Minified bundles (infra/bundling.ts options) and the time a fresh \`node\` takes to import
each, median of ${r.bundling.repetitions}; the baseline is a one-line middy handler bundled the same way.

${md(t.bundles.headers, t.bundles.rows)}

${executor ? `The largest, the executor, is ${n(executor.bytes / 1024, 0)} KiB (limit: 1 MiB).` : ''}
${
  r.liveLogs
    ? `
### Live logs

What a started run adds by flushing its lines every ${r.liveLogs.flushDelayMs} ms while new ones wait
(bench/live-logs.ts: the real flusher on a virtual clock, each flush a real write on dynalite,
billed from the item before and after). "bigger-item WRU" is what its heartbeats and final
write cost more because the item carries the flushed lines. A run that ends within the delay
adds nothing.

${md(LIVE_LOG_HEADERS, liveLogRows(r.liveLogs.points), 0)}
`
    : ''
}
### Goals (issue 14)

${md(
  ['goal', '', 'figure'],
  r.goals.map((g) => [g.goal, g.ok ? 'ok' : 'POOR', g.figure]),
)}
`;
}
