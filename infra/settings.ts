import { Duration, Token } from 'aws-cdk-lib';
import type { TaskServiceAuthMode, TaskServiceProps } from './task-service-props';

/** The props after validation, with every default applied. */
export interface Settings {
  authMode: TaskServiceAuthMode;
  authorizerCacheTtl: Duration;
  maxTasksPerOrg: number;
  runRetentionDays: number;
  dueShards: number;
  dueShardsRead?: number;
  schedulerLookaheadSeconds: number;
  planningWorkers?: number;
  executorMaxConcurrency: number;
  executorBatchingWindow: Duration;
  schedulerRate: Duration;
  executorTimeout: Duration;
  apiRateLimit: number;
  apiBurstLimit: number;
}

/** The executor event source's default batching window; the bench models it (bench/goals.ts, docs/decisions/0026). */
export const DEFAULT_EXECUTOR_BATCHING_WINDOW = Duration.seconds(0);

const fail = (message: string): never => {
  throw new Error(`TaskService: ${message}`);
};

const integerIn = (name: string, value: number, min: number, max: number) => {
  if (!Token.isUnresolved(value) && !(Number.isInteger(value) && value >= min && value <= max)) {
    fail(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
};

const positive = (name: string, value: number) => {
  if (!Token.isUnresolved(value) && !(Number.isFinite(value) && value > 0)) {
    fail(`${name} must be a positive number, got ${value}`);
  }
  return value;
};

/** Precise synth-time errors instead of a failed deployment or a misbehaving service. */
export function validate(props: TaskServiceProps): Settings {
  const engine = validateEngine(props);
  validateTargets(props);
  const api = validateApi(props);
  return {
    ...engine,
    ...api,
    maxTasksPerOrg: integerIn('maxTasksPerOrg', props.maxTasksPerOrg ?? 1000, 1, 1_000_000),
    ...validateShards(props),
    executorMaxConcurrency: integerIn('executorMaxConcurrency', props.executorMaxConcurrency ?? 50, 2, 1000),
    executorBatchingWindow: validateBatchingWindow(props.executorBatchingWindow),
  };
}

function validateEngine(props: TaskServiceProps) {
  const runRetention = props.runRetention ?? Duration.days(7);
  const runRetentionDays = runRetention.toSeconds({ integral: false }) / 86_400;
  integerIn('runRetention (days)', runRetentionDays, 1, 3650);

  const schedulerRate = props.schedulerRate ?? Duration.minutes(1);
  const rateMinutes = schedulerRate.toSeconds({ integral: false }) / 60;
  // SQS delays a message at most 15 minutes, which bounds how far a tick can look ahead.
  integerIn('schedulerRate (minutes)', rateMinutes, 1, 15);

  const executorTimeout = props.executorTimeout ?? Duration.minutes(5);
  integerIn('executorTimeout (seconds)', executorTimeout.toSeconds({ integral: false }), 1, 900);

  const lookahead = props.schedulerLookahead ?? Duration.minutes(15);
  const schedulerLookaheadSeconds = integerIn(
    'schedulerLookahead (seconds)',
    lookahead.toSeconds({ integral: false }),
    60,
    900,
  );
  if (schedulerLookaheadSeconds < schedulerRate.toSeconds()) {
    fail(
      `schedulerLookahead must not be shorter than schedulerRate (${schedulerRate.toSeconds()} s), got ${schedulerLookaheadSeconds} s`,
    );
  }
  return { runRetentionDays, schedulerRate, executorTimeout, schedulerLookaheadSeconds };
}

/** Lambda's SQS event source takes whole seconds, 0–300. */
function validateBatchingWindow(window: Duration = DEFAULT_EXECUTOR_BATCHING_WINDOW): Duration {
  integerIn('executorBatchingWindow (seconds)', window.toSeconds({ integral: false }), 0, 300);
  return window;
}

function validateShards(props: TaskServiceProps) {
  const dueShards = integerIn('dueShards', props.dueShards ?? 8, 1, 256);
  const dueShardsRead =
    props.dueShardsRead === undefined ? undefined : integerIn('dueShardsRead', props.dueShardsRead, 1, 256);
  const planningWorkers =
    props.planningWorkers === undefined
      ? undefined
      : integerIn('planningWorkers', props.planningWorkers, 1, 256);
  return {
    dueShards,
    ...(dueShardsRead === undefined ? {} : { dueShardsRead }),
    ...(planningWorkers === undefined ? {} : { planningWorkers }),
  };
}

function validateTargets(props: TaskServiceProps): void {
  for (const [name, arns] of [
    ['targetLambdaArns', props.targetLambdaArns],
    ['targetQueueArns', props.targetQueueArns],
    ['targetTopicArns', props.targetTopicArns],
    ['targetEventBusArns', props.targetEventBusArns],
  ] as const) {
    if (arns?.includes('*')) fail(`${name} must list ARNs; "*" would let any task reach any resource`);
  }
}

function validateApi(props: TaskServiceProps) {
  const authMode = props.authMode ?? 'token';
  if (!['token', 'iam', 'none'].includes(authMode))
    fail(`authMode must be token, iam or none, got ${authMode}`);
  const authorizerCacheTtl = props.authorizerCacheTtl ?? Duration.seconds(0);
  integerIn('authorizerCacheTtl (seconds)', authorizerCacheTtl.toSeconds({ integral: false }), 0, 3600);

  const apiRateLimit = positive('apiRateLimit', props.apiRateLimit ?? 100);
  const apiBurstLimit = integerIn('apiBurstLimit', props.apiBurstLimit ?? 200, 0, 5000);
  return { authMode, authorizerCacheTtl, apiRateLimit, apiBurstLimit };
}
