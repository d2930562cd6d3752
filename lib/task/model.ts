import * as z from 'zod';
import { durationSchema, parseDuration } from '../schedule/duration';
import { isValidTimeZone, validateCron } from '../schedule/schedule';

/** Limits that keep one task item far below DynamoDB's 400 KB item cap. */
export const LIMITS = {
  nameLength: 256,
  descriptionLength: 4096,
  metadataBytes: 64 * 1024,
  maxConcurrency: 1000,
  /** Schedule strings: far above any real one, low enough that parsing stays cheap. */
  durationLength: 64,
  cronLength: 256,
  timezoneLength: 64,
  maxRetryAttempts: 10,
  catchUpCap: 1000,
} as const;

const durationString = (what: string, check: (seconds: number) => string | undefined) =>
  durationSchema({
    maxLength: LIMITS.durationLength,
    check: (ms) => {
      const problem = check(ms / 1000);
      return problem ? `${what} ${problem}` : undefined;
    },
  });

export const everySchema = durationString('every', (s) => (s < 1 ? 'must be at least 1s' : undefined));
export const offsetSchema = durationString('offset', (s) =>
  Math.abs(s) > 7 * 86_400 ? 'must be within 7 days either way' : undefined,
);
export const timeoutSchema = durationString('timeout', (s) =>
  s < 1 ? 'must be at least 1s' : s > 900 ? 'must be at most 15m' : undefined,
);
export const backoffSchema = durationString('backoff', (s) =>
  s < 1 ? 'must be at least 1s' : s > 900 ? 'must be at most 15m' : undefined,
);
/** At most the `every` interval (checked with the schedule) and at most an hour for cron. */
export const jitterSchema = durationSchema({ maxLength: LIMITS.durationLength, negative: false });
/** The longest jitter a cron task takes: its instants have no fixed interval to bound it. */
export const MAX_CRON_JITTER_SECONDS = 3600;
/** `startAt` and `endAt`, as EventBridge Scheduler has them. */
export const timeBoundSchema = z.iso.datetime({
  offset: true,
  error: 'must be an RFC3339 time such as 2026-03-08T06:00:00Z',
});
export const cronSchema = z.string().min(1).max(LIMITS.cronLength);
export const timezoneSchema = z
  .string()
  .max(LIMITS.timezoneLength)
  .refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin' });

export const taskStatusSchema = z.enum(['active', 'inactive']);
export type TaskStatus = z.infer<typeof taskStatusSchema>;

export const catchUpSchema = z.enum(['skip', 'latest', 'all']);
export type CatchUp = z.infer<typeof catchUpSchema>;

/** What a run does when all of its task's `concurrency` slots are busy (see lib/executor/overlap.ts). */
export const overlapSchema = z.enum(['queue', 'skip', 'replace']);
export type Overlap = z.infer<typeof overlapSchema>;

export const retryPolicySchema = z.strictObject({
  attempts: z.number().int().min(0).max(LIMITS.maxRetryAttempts),
  backoff: backoffSchema.default('10s'),
});
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

export const runStatusSchema = z.enum(['scheduled', 'started', 'success', 'failed', 'canceled']);
export type RunStatus = z.infer<typeof runStatusSchema>;

const metadataSchema = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  if (Buffer.byteLength(JSON.stringify(value)) > LIMITS.metadataBytes) {
    ctx.addIssue({ code: 'custom', message: `metadata must be at most ${LIMITS.metadataBytes} bytes` });
  }
});

/** Fields a system may set on create. `type`, ids and bookkeeping are never among them. */
export const taskDefinitionFields = {
  orgID: z.string().min(1).max(64),
  ownerID: z.string().min(1).max(64).optional(),
  name: z.string().trim().min(1).max(LIMITS.nameLength),
  description: z.string().max(LIMITS.descriptionLength).optional(),
  status: taskStatusSchema.optional(),
  every: everySchema.optional(),
  cron: cronSchema.optional(),
  offset: offsetSchema.optional(),
  timezone: timezoneSchema.optional(),
  jitter: jitterSchema.optional(),
  startAt: timeBoundSchema.optional(),
  endAt: timeBoundSchema.optional(),
  concurrency: z.number().int().min(1).max(LIMITS.maxConcurrency).optional(),
  timeout: timeoutSchema.optional(),
  retry: retryPolicySchema.optional(),
  catchUp: catchUpSchema.optional(),
  overlap: overlapSchema.optional(),
  metadata: metadataSchema,
};

type ScheduleShape = {
  every?: string | undefined;
  cron?: string | undefined;
  timezone?: string | undefined;
  jitter?: string | undefined;
  startAt?: string | undefined;
  endAt?: string | undefined;
};

/** Seconds of a well-formed duration, or undefined for one its own field already refuses. */
function secondsOf(duration: string | undefined): number | undefined {
  if (duration === undefined) return undefined;
  try {
    return parseDuration(duration);
  } catch {
    return undefined;
  }
}

/** Jitter spreads runs within one interval: a longer one would let runs pass each other. */
function checkJitter(task: ScheduleShape, ctx: z.RefinementCtx): void {
  const jitter = secondsOf(task.jitter);
  if (jitter === undefined) return;
  const every = secondsOf(task.every);
  if (every !== undefined && jitter > every) {
    ctx.addIssue({
      code: 'custom',
      message: `jitter must be at most the every interval (${task.every})`,
      path: ['jitter'],
    });
  }
  if (task.cron !== undefined && jitter > MAX_CRON_JITTER_SECONDS) {
    ctx.addIssue({ code: 'custom', message: 'jitter must be at most 1h for a cron task', path: ['jitter'] });
  }
}

function checkTimeBounds(task: ScheduleShape, ctx: z.RefinementCtx): void {
  if (task.startAt === undefined || task.endAt === undefined) return;
  const start = Date.parse(task.startAt);
  const end = Date.parse(task.endAt);
  if (Number.isFinite(start) && Number.isFinite(end) && end <= start) {
    ctx.addIssue({
      code: 'custom',
      message: `endAt must be after startAt (${task.startAt})`,
      path: ['endAt'],
    });
  }
}

/** Cross-field rules shared by create and the merged result of an update. */
export function checkSchedule(task: ScheduleShape, ctx: z.RefinementCtx): void {
  checkTimeBounds(task, ctx);
  if (task.every !== undefined && task.cron !== undefined) {
    ctx.addIssue({ code: 'custom', message: 'a task takes either every or cron, not both', path: ['cron'] });
    return;
  }
  if (task.every === undefined && task.cron === undefined) {
    ctx.addIssue({ code: 'custom', message: 'a task needs every or cron', path: ['every'] });
    return;
  }
  // A bad time zone is its own error: the cron is not judged in a zone that does not exist.
  if (task.cron !== undefined && (task.timezone === undefined || isValidTimeZone(task.timezone))) {
    try {
      validateCron(task.cron, task.timezone ?? 'UTC');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message, path: ['cron'] });
    }
  }
  checkJitter(task, ctx);
}

/** Just the cross-field schedule rules, for checking a merged update. */
export const scheduleShapeSchema = z
  .object({
    every: z.string().optional(),
    cron: z.string().optional(),
    timezone: z.string().optional(),
    jitter: z.string().optional(),
    startAt: z.string().optional(),
    endAt: z.string().optional(),
  })
  .superRefine(checkSchedule);

export const taskDefinitionSchema = z.strictObject(taskDefinitionFields).superRefine(checkSchedule);
export type TaskDefinition = z.infer<typeof taskDefinitionSchema>;

/**
 * An update. `null` clears an optional field; setting `every` clears `cron` and
 * the other way round, as in InfluxDB.
 */
export const taskPatchSchema = z
  .strictObject({
    name: taskDefinitionFields.name.optional(),
    description: z.string().max(LIMITS.descriptionLength).nullable().optional(),
    status: taskStatusSchema.optional(),
    every: everySchema.nullable().optional(),
    cron: cronSchema.nullable().optional(),
    offset: offsetSchema.nullable().optional(),
    timezone: timezoneSchema.nullable().optional(),
    jitter: jitterSchema.nullable().optional(),
    startAt: timeBoundSchema.nullable().optional(),
    endAt: timeBoundSchema.nullable().optional(),
    concurrency: taskDefinitionFields.concurrency.nullable(),
    timeout: timeoutSchema.nullable().optional(),
    retry: retryPolicySchema.nullable().optional(),
    catchUp: catchUpSchema.nullable().optional(),
    overlap: overlapSchema.nullable().optional(),
    metadata: metadataSchema.optional(),
    ownerID: taskDefinitionFields.ownerID.nullable(),
  })
  .refine((patch) => !(patch.every && patch.cron), {
    message: 'a task takes either every or cron, not both',
    path: ['cron'],
  });
export type TaskPatch = z.infer<typeof taskPatchSchema>;

/** A stored task. Times are RFC3339 strings. */
export interface Task {
  id: string;
  type: string;
  orgID: string;
  ownerID?: string | undefined;
  name: string;
  description: string;
  status: TaskStatus;
  every?: string | undefined;
  cron?: string | undefined;
  offset?: string | undefined;
  timezone?: string | undefined;
  /** Each scheduled instant runs a hash-derived `[0, jitter)` after `scheduledFor + offset`. */
  jitter?: string | undefined;
  /** No instant before it runs. */
  startAt?: string | undefined;
  /** No instant after it runs. */
  endAt?: string | undefined;
  concurrency?: number | undefined;
  timeout?: string | undefined;
  retry?: RetryPolicy | undefined;
  catchUp: CatchUp;
  /** Absent means `queue`. A task with an overlap always has a `concurrency` (1 unless set). */
  overlap?: Overlap | undefined;
  metadata: Record<string, unknown>;
  /** The last scheduled instant handed to the queue; the scheduler advances it. */
  latestScheduled: string;
  /**
   * When the next scheduled instant runs (scheduledFor + offset + jitter); absent while
   * inactive and once no instant is left before `endAt`.
   */
  nextRunAt?: string | undefined;
  latestCompleted?: string | undefined;
  latestSuccess?: string | undefined;
  latestFailure?: string | undefined;
  lastRunStatus?: RunStatus | undefined;
  lastRunError?: string | undefined;
  createdAt: string;
  updatedAt: string;
  /** Optimistic-concurrency version; every definition write increments it. */
  version: number;
  /**
   * Bumped when the schedule changes or the task is re-activated. Queued runs carry
   * the revision that produced them, so runs of a replaced schedule are dropped.
   */
  revision: number;
}

export const DEFAULT_CATCH_UP: CatchUp = 'latest';

/** `overlap` without `concurrency` means one run at a time. */
export const concurrencyFor = (task: { concurrency?: number | undefined; overlap?: Overlap | undefined }) =>
  task.concurrency ?? (task.overlap !== undefined ? 1 : undefined);
