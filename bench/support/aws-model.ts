import type { RunFootprint } from './cost';
import { LAMBDA_ASSUMPTIONS } from './cost';

/**
 * What a run costs on AWS, from what the bench measured (requests, log lines, Rota's own
 * CPU) and a few stated AWS figures, instead of emulator milliseconds and the bench
 * pollers' batches (docs/decisions/0027). Every assumption is here and printed.
 */
export const AWS_TIMING = {
  /**
   * Lambda allocates CPU in proportion to memory: one vCPU at 1,769 MB ("Lambda
   * memory and computing power", Lambda developer guide). Below it a CPU-bound
   * millisecond on one core takes 1,769 / memory ms.
   */
  fullVcpuMemoryMb: 1769,
  /**
   * One DynamoDB or SQS request from a Lambda in the same region. DynamoDB promises
   * single-digit millisecond latency; 10 ms covers the slowest of a batch's parallel
   * chains and SQS's SendMessageBatch.
   */
  requestMs: 10,
  /** The scheduler advances this many tasks at once (lib/scheduler/scheduler.ts's default). */
  schedulerParallelism: 16,
} as const;

/** The deployed executor event source (infra/task-service.ts). */
export interface EventSource {
  batchSize: number;
  batchingWindowMs: number;
}

/** Rota's own CPU, measured with the emulators on another thread (bench/cpu.ts). */
export interface RotaCpu {
  executorCpuMsPerRun: number;
  schedulerCpuMsPerAdvance: number;
}

/** What one workload measured, per logical run. */
export interface MeasuredRun {
  dynamodbReadUnits: number;
  dynamodbWriteUnits: number;
  /** Requests by source and `service:Op` (bench/support/counter.ts). */
  bySource: Record<string, Record<string, number>>;
  /** SQS records the executor handled (deliveries: waits and retries deliver more than once). */
  executorRecords: number;
  schedulerTicks: number;
  /** Log bytes of the run's own lines (everything but the per-invocation EMF and START/END/REPORT). */
  lineBytes: number;
  /** Log bytes one invocation adds by itself: its EMF line and the runtime's three lines. */
  bytesPerInvocation: number;
}

export interface ModelledRun extends RunFootprint {
  executorMs: number;
  schedulerMs: number;
}

const sum = (ops: Record<string, number> | undefined, keep: (op: string) => boolean = () => true) =>
  Object.entries(ops ?? {}).reduce((total, [op, n]) => (keep(op) ? total + n : total), 0);

/**
 * Per run on AWS:
 * - the event source takes full batches (`batchSize` records), one ReceiveMessage and one
 *   DeleteMessageBatch each: the steady state a million runs are priced at;
 * - an executor invocation bills its records' CPU (× the 512 MB CPU share) plus the
 *   longest chain of sequential requests (records run in parallel, each record's
 *   requests in order) at `requestMs` each;
 * - the scheduler bills its CPU per advanced task plus its requests, 16 at a time;
 * - logs: the run's lines plus each invocation's own lines over the modelled invocations.
 */
export function modelRun(m: MeasuredRun, cpu: RotaCpu, source: EventSource): ModelledRun {
  const { batchSize } = source;
  const cpuShare = Math.max(1, AWS_TIMING.fullVcpuMemoryMb / LAMBDA_ASSUMPTIONS.memoryMb);
  const executor = m.bySource.executor;
  const scheduler = m.bySource.scheduler;
  const executorInvocations = m.executorRecords / batchSize;
  const executorRequests = sum(executor);
  const chain = m.executorRecords > 0 ? executorRequests / m.executorRecords : 0;
  const executorMs =
    cpu.executorCpuMsPerRun * m.executorRecords * cpuShare +
    executorInvocations * chain * AWS_TIMING.requestMs;
  const advances = scheduler?.['DynamoDB:UpdateItem'] ?? 0;
  const schedulerMs =
    cpu.schedulerCpuMsPerAdvance * advances * cpuShare +
    (sum(scheduler) * AWS_TIMING.requestMs) / AWS_TIMING.schedulerParallelism;
  const sends = sum(executor, (op) => op.startsWith('SQS:')) + sum(scheduler, (op) => op.startsWith('SQS:'));
  const lambdaInvocations = executorInvocations + m.schedulerTicks;
  return {
    dynamodbReadUnits: m.dynamodbReadUnits,
    dynamodbWriteUnits: m.dynamodbWriteUnits,
    sqsRequests: sends + 2 * executorInvocations,
    lambdaInvocations,
    lambdaMs: executorMs + schedulerMs,
    logBytes: m.lineBytes + m.bytesPerInvocation * lambdaInvocations,
    executorMs,
    schedulerMs,
  };
}

/** The model's assumptions as one printable line. */
export function modelNote(cpu: RotaCpu, source: EventSource): string {
  const share = (AWS_TIMING.fullVcpuMemoryMb / LAMBDA_ASSUMPTIONS.memoryMb).toFixed(2);
  return (
    `$ on AWS timing (bench/support/aws-model.ts): full batches of ${source.batchSize} (window ${source.batchingWindowMs} ms), one ReceiveMessage + one DeleteMessageBatch each; ` +
    `λ ms = Rota CPU (executor ${cpu.executorCpuMsPerRun} ms per record, scheduler ${cpu.schedulerCpuMsPerAdvance} ms per advance, measured with the emulators on another thread) × ${share} (${LAMBDA_ASSUMPTIONS.memoryMb} MB of the 1,769 MB that get one vCPU) ` +
    `+ the longest sequential request chain × ${AWS_TIMING.requestMs} ms per AWS request (DynamoDB: single-digit ms); logs = the run's lines + each invocation's EMF and START/END/REPORT lines`
  );
}
