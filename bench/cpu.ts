import { Worker } from 'node:worker_threads';
import { batchPut, createBenchEngine, round, type Substrate, taskItem } from './support/engine';
import { LogMeter } from './support/log-meter';
import { dueNowSchedule, rawTask } from './support/tasks';

/**
 * Figure 1b: Rota's own CPU per run, the input of the AWS timing model
 * (bench/support/cost.ts). The emulators run on a worker thread, so this thread's CPU
 * time (`process.threadCpuUsage`) is the engine's, the SDK's and the logger's, as on a
 * Lambda, and none of the emulators'. It still includes the bench's poller (Lambda's
 * event source on AWS, not billed): a slight overestimate.
 */

export interface CpuResult {
  runs: number;
  /** Main-thread CPU of the one scheduler tick, per task it advanced (one run each). */
  schedulerCpuMsPerAdvance: number;
  /** Main-thread CPU of the executors, per run, pollers included. */
  executorCpuMsPerRun: number;
  /** The warm round's figures; the first round warms the JIT up, as a warm Lambda is. */
  rounds: { schedulerCpuMsPerAdvance: number; executorCpuMsPerRun: number }[];
}

/**
 * One poller taking batches of 10: every invocation is a full batch, as the cost model
 * prices them, and the poller's own requests (Lambda's on AWS, not billed) are two per
 * ten runs instead of ten pollers' idle long polls.
 */
const WORKERS = 1;
const BATCH_SIZE = 10;

const threadCpuMs = (since?: NodeJS.CpuUsage) => {
  const used = process.threadCpuUsage(since);
  return (used.user + used.system) / 1000;
};

/** dynalite and fauxqs on a thread of their own (support/substrate-thread.mjs). */
async function startSubstrateThread(): Promise<Substrate> {
  const worker = new Worker(new URL('./support/substrate-thread.mjs', import.meta.url));
  const endpoints = await new Promise<{ dynamoEndpoint: string; sqsEndpoint: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    ...endpoints,
    stop: async () => {
      const stopped = new Promise((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}

export async function measureCpu(runs: number): Promise<CpuResult> {
  const substrate = await startSubstrateThread();
  const engine = await createBenchEngine(substrate, { prefix: 'cpu', logs: new LogMeter() });
  const rounds: CpuResult['rounds'] = [];
  try {
    for (let round = 0; round < 2; round++) {
      const s = dueNowSchedule(Date.now(), 1, 'latest');
      // Tasks in service, as figure 1's plain workloads: their last run succeeded, so a
      // repeated success writes no bookkeeping (docs/decisions/0015).
      const before = new Date(s.latestScheduled).toISOString();
      const established = {
        lastRunStatus: 'success',
        latestCompleted: before,
        latestSuccess: before,
      } as const;
      await batchPut(
        engine.admin.dynamo,
        engine.tableName,
        Array.from({ length: runs }, () => taskItem({ ...rawTask({ ...s }), ...established })),
        8,
      );
      const ended = engine.terminalCount();
      const tickCpu = process.threadCpuUsage();
      const report = await engine.scheduler.tick();
      const schedulerMs = threadCpuMs(tickCpu);
      const pool = engine.startExecutors(WORKERS, BATCH_SIZE);
      const executorCpu = process.threadCpuUsage();
      await engine.waitForTerminal(ended + report.enqueued, 120_000);
      const executorMs = threadCpuMs(executorCpu);
      await pool.stop();
      rounds.push({
        schedulerCpuMsPerAdvance: round2(schedulerMs / Math.max(1, report.advanced)),
        executorCpuMsPerRun: round2(executorMs / Math.max(1, report.enqueued)),
      });
    }
  } finally {
    engine.close();
    await substrate.stop();
  }
  const warm = rounds.at(-1) ?? { schedulerCpuMsPerAdvance: 0, executorCpuMsPerRun: 0 };
  return { runs, ...warm, rounds };
}

const round2 = (x: number) => round(x, 2);
