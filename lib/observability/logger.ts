import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger, type LogItem, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type { LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';

/**
 * How log lines print: `json`, Powertools' structured lines (what CloudWatch reads on
 * AWS, and local mode's `--log-format json`), or `human`, one short line each for a
 * terminal (local mode's default).
 */
export type LogFormat = 'json' | 'human';

let format: LogFormat = 'json';
/**
 * Whether JSON lines at INFO and DEBUG leave the envelope out (`compacted`). On
 * Lambda each function writes to a log group of its own; local mode's functions share
 * one stdout, where a line must name its function and invocation.
 */
let compactInfo = true;

/**
 * Local mode picks the format once, at start, and keeps the envelope (its human lines
 * show their time); Lambda functions keep compact JSON.
 */
export function setLogFormat(next: LogFormat, options: { compactInfo?: boolean } = {}): void {
  format = next;
  compactInfo = options.compactInfo ?? compactInfo;
}

/** Powertools' envelope: a human line leaves it out, and so does a compact JSON line but for level and message. */
const ENVELOPE = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
]);

function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'message' in value) {
    const { name, message } = value as { name?: unknown; message?: unknown };
    return `${String(name ?? 'Error')}: ${String(message)}`;
  }
  return JSON.stringify(value);
}

/**
 * `16:02:11.408 INFO  run success: task 01… run 01… in 312 ms  orgID=my-org`: time,
 * level and message, then the fields the message does not already say.
 */
export function humanLine(attributes: Record<string, unknown>): string {
  const message = String(attributes.message ?? '');
  const time = typeof attributes.timestamp === 'string' ? attributes.timestamp.slice(11, 23) : '';
  const fields = Object.entries(attributes)
    .filter(([key, value]) => !ENVELOPE.has(key) && value !== undefined && value !== '')
    .map(([key, value]) => [key, shown(value)] as const)
    .filter(([, value]) => !message.includes(value))
    .map(([key, value]) => `${key}=${value}`);
  const head = `${time} ${String(attributes.level ?? '').padEnd(5)} ${message}`;
  return fields.length ? `${head}  ${fields.join(' ')}` : head;
}

/** The Lambda context of the invocation whose code is running, in this async scope. */
interface Invocation {
  context: Pick<Context, 'functionName' | 'invokedFunctionArn' | 'memoryLimitInMB' | 'awsRequestId'>;
  coldStart: boolean;
}

const invocations = new AsyncLocalStorage<Invocation>();
const warmFunctions = new Set<string>();

const isLambdaContext = (value: unknown): value is Context =>
  typeof (value as Partial<Context> | undefined)?.functionName === 'string';

/**
 * Runs one invocation of a handler with its own Lambda context for the log lines it
 * writes. One process can run several functions at once (local mode runs all of them,
 * and one Lambda instance may run concurrent invocations): Powertools keeps one context
 * per logger, so a line would name whichever function added its context last.
 */
export function withLambdaContext<T>(context: unknown, work: () => T): T {
  if (!isLambdaContext(context)) return work();
  const coldStart = !warmFunctions.has(context.functionName);
  warmFunctions.add(context.functionName);
  return invocations.run({ context, coldStart }, work);
}

/** Powertools' Lambda context keys (PowertoolsLambdaContextKeys), for one invocation. */
function contextKeys({ context, coldStart }: Invocation): Record<string, unknown> {
  return {
    cold_start: coldStart,
    function_arn: context.invokedFunctionArn,
    function_memory_size: context.memoryLimitInMB,
    function_name: context.functionName,
    function_request_id: context.awsRequestId,
  };
}

/**
 * A JSON line at INFO or DEBUG keeps only these of the envelope (`ENVELOPE`), then its
 * fields. CloudWatch Logs bills every byte, and a run's success line is written once
 * per run: the log group and stream already name the function (ARN, name, memory),
 * every event carries its own timestamp, the START/END lines around it give the
 * request id, the REPORT line the cold start and trace, and the log group the service.
 * What is left is ids and timings. Warnings and errors keep the whole envelope
 * (docs/decisions/0027-cost-per-run.md).
 */
const COMPACT_KEEPS = ['level', 'message'];

/** An INFO or DEBUG line's attributes without the envelope keys it need not repeat. */
function compacted(attributes: Record<string, unknown>): Record<string, unknown> {
  const kept = { ...attributes };
  for (const key of ENVELOPE) if (!COMPACT_KEEPS.includes(key)) delete kept[key];
  return kept;
}

/**
 * Rota's logger: each invocation's own Lambda context (`withLambdaContext`), compact
 * JSON lines at INFO and DEBUG, full ones from WARN up. Exported for the bench's log meter,
 * which prints the very same lines into its count.
 */
export class RotaLogger extends Logger {
  /** Inside an invocation (`withLambdaContext`), the context stays that invocation's own. */
  override addContext(context: Parameters<Logger['addContext']>[0]): void {
    const invocation = invocations.getStore();
    if (invocation) invocation.context = context;
    else super.addContext(context);
  }

  protected override createAndPopulateLogItem(
    logLevel: number,
    input: LogItemMessage,
    extraInput: LogItemExtraInput,
  ): LogItem {
    const item = super.createAndPopulateLogItem(logLevel, input, extraInput);
    // A compact line leaves out the invocation's context keys too (all of them envelope), so they are not added.
    if (compactInfo && logLevel < LogLevelThreshold.WARN) {
      item.setAttributes(compacted(item.getAttributes()));
      return item;
    }
    const invocation = invocations.getStore();
    if (invocation) item.addAttributes(contextKeys(invocation));
    return item;
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    if (format === 'json') {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    const line = `${humanLine(log.getAttributes() as Record<string, unknown>)}\n`;
    (logLevel >= LogLevelThreshold.WARN ? process.stderr : process.stdout).write(line);
  }
}

/**
 * One structured logger for the process. Lambda functions and local mode share it;
 * level and sampling come from the standard POWERTOOLS_* variables.
 */
export const logger: Logger = new RotaLogger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'rota' });
