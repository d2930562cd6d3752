import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Logger, LogItem } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { RotaLogger, withLambdaContext } from '../../lib/observability/logger';

/**
 * CloudWatch Logs bills the bytes it ingests. An event counts its UTF-8 message plus 26
 * bytes (the size rule PutLogEvents documents), so many short lines cost more than
 * their text.
 */
export const LOG_EVENT_OVERHEAD_BYTES = 26;

/**
 * A deployed function's identity is longer than local mode's: CloudFormation names it
 * `<stack>-<construct path><hash>-<suffix>`, and every Powertools line carries the name,
 * the ARN and the request id. Sizes matter here, the values do not.
 */
const DEPLOYED_FUNCTION_NAME = 'RotaStack-TaskServiceExecutor8F2B1C3D-kq2L9xWm3Hn7';
const XRAY_TRACE_ID = 'Root=1-674d1a2b-3c4d5e6f7a8b9c0d1e2f3a4b;Parent=1a2b3c4d5e6f7a8b;Sampled=1';

function deployedContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: DEPLOYED_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${DEPLOYED_FUNCTION_NAME}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${DEPLOYED_FUNCTION_NAME}`,
    logStreamName: '2026/12/02/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => 60_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/**
 * The Lambda runtime's own lines per invocation, in the text log format the construct
 * deploys (no `loggingFormat`), with active tracing: written by Lambda, not by Rota,
 * and billed all the same. Modelled from the documented formats, not captured.
 */
function platformLines(requestId: string, durationMs: number): string[] {
  const billed = Math.ceil(durationMs);
  return [
    `START RequestId: ${requestId} Version: $LATEST`,
    `END RequestId: ${requestId}`,
    `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: 512 MB\tMax Memory Used: 98 MB\t\nXRAY TraceId: 1-674d1a2b-3c4d5e6f7a8b9c0d1e2f3a4b\tSegmentId: 1a2b3c4d5e6f7a8b\tSampled: true\t`,
  ];
}

/**
 * Rota's own logger (lib/observability/logger.ts) at the deployed level (INFO), printing
 * into a meter: the lines are the ones a deployed function writes, compact INFO included.
 */
class MeteredLogger extends RotaLogger {
  constructor(private readonly meter: LogMeter) {
    super({ serviceName: 'rota-executor', logLevel: 'INFO' });
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    this.meter.add(JSON.stringify(log.getAttributes()));
  }
}

/**
 * What one function writes to CloudWatch Logs: its structured lines (the real logger at
 * the deployed level), its EMF metrics (the real Powertools Metrics, serialized as they
 * print), and the runtime's START/END/REPORT lines, per invocation.
 */
export class LogMeter {
  bytes = 0;
  events = 0;
  /** Every event, as ingested: the bench's workloads write a few hundred. */
  readonly lines: string[] = [];
  readonly logger: Logger;
  /** Invocations metered, and the bytes of their own lines (EMF + START/END/REPORT). */
  invocations = 0;
  invocationBytes = 0;
  /**
   * Each invocation's own Metrics, as each Lambda instance has one: the bench runs
   * invocations concurrently in one process, and a shared store would mix their values.
   */
  private readonly metrics = new AsyncLocalStorage<Metrics>();

  constructor() {
    this.logger = new MeteredLogger(this);
    // Powertools reads the trace id from the runtime's variable on every line.
    process.env._X_AMZN_TRACE_ID ??= XRAY_TRACE_ID;
  }

  add(line: string): void {
    this.bytes += Buffer.byteLength(line) + LOG_EVENT_OVERHEAD_BYTES;
    this.events++;
    this.lines.push(line);
  }

  /** The executor's `onLag`, as the composition root wires it to the ScheduleLag metric. */
  readonly scheduleLag = (lagMs: number): void => {
    this.metrics.getStore()?.addMetric('ScheduleLag', MetricUnit.Milliseconds, Math.max(0, lagMs));
  };

  /** Runs one invocation's work with a fresh Lambda context, then its EMF and runtime lines. */
  async invocation<T>(work: () => Promise<T>): Promise<T> {
    const context = deployedContext();
    const metrics = new Metrics({ namespace: 'Rota', serviceName: 'rota-executor' });
    const started = performance.now();
    try {
      // As lambdaHandler (lib/composition/function.ts) runs every deployed handler.
      return await this.metrics.run(metrics, () => withLambdaContext(context, work));
    } finally {
      const before = this.bytes;
      if (metrics.hasStoredMetrics()) this.add(JSON.stringify(metrics.serializeMetrics()));
      for (const line of platformLines(context.awsRequestId, performance.now() - started)) this.add(line);
      this.invocations++;
      this.invocationBytes += this.bytes - before;
    }
  }
}
