import { describe, expect, it } from 'vitest';
import { AWS_TIMING, type MeasuredRun, modelRun } from '../../bench/support/aws-model';
import { LAMBDA_ASSUMPTIONS } from '../../bench/support/cost';

/** An unlimited run as the bench counts it: one delivery, four executor requests, a 15th of an advance. */
const run: MeasuredRun = {
  dynamodbReadUnits: 1,
  dynamodbWriteUnits: 2.4,
  bySource: {
    executor: {
      'DynamoDB:GetItem': 1,
      'DynamoDB:UpdateItem': 2,
      'DynamoDB:Query': 0.5,
      'SQS:SendMessage': 0.5,
    },
    scheduler: { 'DynamoDB:Query': 0.05, 'DynamoDB:UpdateItem': 0.1, 'SQS:SendMessageBatch': 0.1 },
    eventSource: { 'SQS:ReceiveMessage': 0.5, 'SQS:DeleteMessageBatch': 0.5 },
  },
  executorRecords: 1,
  schedulerTicks: 0.01,
  lineBytes: 200,
  bytesPerInvocation: 600,
};
const cpu = { executorCpuMsPerRun: 4, schedulerCpuMsPerAdvance: 0.5 };
const share = AWS_TIMING.fullVcpuMemoryMb / LAMBDA_ASSUMPTIONS.memoryMb;

describe("the bench's AWS cost model", () => {
  it('prices full batches: one invocation, one receive and one delete per batch, plus the sends', () => {
    const m = modelRun(run, cpu, { batchSize: 10, batchingWindowMs: 1000 });
    expect(m.lambdaInvocations).toBeCloseTo(0.1 + 0.01);
    // The executor's SendMessage and the scheduler's SendMessageBatch, then 2 per batch of 10.
    expect(m.sqsRequests).toBeCloseTo(0.5 + 0.1 + 0.2);
    expect(m.dynamodbWriteUnits).toBe(2.4);
  });

  it("bills the records' CPU at the 512 MB share and the longest request chain once per invocation", () => {
    const m = modelRun(run, cpu, { batchSize: 10, batchingWindowMs: 0 });
    // 4 requests in sequence per record; the ten records of a batch run side by side.
    expect(m.executorMs).toBeCloseTo(4 * share + (4 * AWS_TIMING.requestMs) / 10);
    expect(m.schedulerMs).toBeCloseTo(
      0.5 * 0.1 * share + (0.25 * AWS_TIMING.requestMs) / AWS_TIMING.schedulerParallelism,
    );
    expect(m.lambdaMs).toBeCloseTo(m.executorMs + m.schedulerMs);
  });

  it("spreads each invocation's own log lines over the runs of a batch", () => {
    const full = modelRun(run, cpu, { batchSize: 10, batchingWindowMs: 1000 });
    const single = modelRun(run, cpu, { batchSize: 1, batchingWindowMs: 1000 });
    expect(full.logBytes).toBeCloseTo(200 + 600 * 0.11);
    expect(single.logBytes).toBeCloseTo(200 + 600 * 1.01);
  });

  it('counts a run delivered twice (a wait, a retry) as two records of CPU and chains', () => {
    const once = modelRun(run, cpu, { batchSize: 10, batchingWindowMs: 0 });
    const twice = modelRun({ ...run, executorRecords: 2 }, cpu, { batchSize: 10, batchingWindowMs: 0 });
    expect(twice.lambdaInvocations).toBeCloseTo(0.2 + 0.01);
    expect(twice.executorMs).toBeGreaterThan(once.executorMs * 1.5);
  });
});
