/**
 * us-east-1 list prices (on-demand), per unit stated in the name. Written down here,
 * not fetched: update them when AWS changes its prices.
 */
export const PRICES = {
  dynamodbPerMillionWriteRequestUnits: 0.625,
  dynamodbPerMillionReadRequestUnits: 0.125,
  sqsPerMillionRequests: 0.4,
  lambdaPerMillionRequests: 0.2,
  /** arm64 */
  lambdaPerGbSecond: 0.0000133334,
  eventbridgeSchedulerPerMillionInvocations: 1.0,
  stepFunctionsStandardPerThousandTransitions: 0.025,
  /** Standard log class, data ingested (storage is left out, as it is for DynamoDB). */
  cloudwatchLogsPerGbIngested: 0.5,
} as const;

export const LAMBDA_ASSUMPTIONS = {
  /** Every Rota function's memory (infra/rota-function.ts default). */
  memoryMb: 512,
  /**
   * The alternatives invoke one Lambda per run that does the (no-op) work itself; its
   * billed duration is assumed, not measured.
   */
  alternativeTargetDurationMs: 10,
  /** A minimal Step Functions Standard workflow: Start → Task (Lambda) → End. */
  stepFunctionsTransitionsPerRun: 3,
} as const;

export interface RunFootprint {
  dynamodbReadUnits: number;
  dynamodbWriteUnits: number;
  sqsRequests: number;
  /** Lambda invocations per run (executor: 1 / average batch size; scheduler: ticks / runs). */
  lambdaInvocations: number;
  /** Billed Lambda milliseconds per run (executor handler time + scheduler tick time, per run). */
  lambdaMs: number;
  /** Bytes ingested by CloudWatch Logs per run (bench/support/log-meter.ts). */
  logBytes: number;
}

const gbSeconds = (ms: number) => (ms / 1000) * (LAMBDA_ASSUMPTIONS.memoryMb / 1024);

/** Dollars per million runs, split by service. */
export function rotaCostPerMillion(f: RunFootprint) {
  const dynamodb =
    f.dynamodbWriteUnits * PRICES.dynamodbPerMillionWriteRequestUnits +
    f.dynamodbReadUnits * PRICES.dynamodbPerMillionReadRequestUnits;
  const sqs = f.sqsRequests * PRICES.sqsPerMillionRequests;
  const lambda =
    f.lambdaInvocations * PRICES.lambdaPerMillionRequests +
    gbSeconds(f.lambdaMs) * PRICES.lambdaPerGbSecond * 1e6;
  const logs = (f.logBytes / 1024 ** 3) * PRICES.cloudwatchLogsPerGbIngested * 1e6;
  return { dynamodb, sqs, lambda, logs, total: dynamodb + sqs + lambda + logs };
}

const alternativeLambda =
  PRICES.lambdaPerMillionRequests +
  gbSeconds(LAMBDA_ASSUMPTIONS.alternativeTargetDurationMs) * PRICES.lambdaPerGbSecond * 1e6;

export function eventbridgeSchedulerCostPerMillion() {
  const scheduler = PRICES.eventbridgeSchedulerPerMillionInvocations;
  return { scheduler, lambda: alternativeLambda, total: scheduler + alternativeLambda };
}

export function stepFunctionsCostPerMillion() {
  const transitions =
    LAMBDA_ASSUMPTIONS.stepFunctionsTransitionsPerRun *
    PRICES.stepFunctionsStandardPerThousandTransitions *
    1000;
  return { transitions, lambda: alternativeLambda, total: transitions + alternativeLambda };
}
