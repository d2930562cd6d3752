import { ulid } from 'ulid';
import { compileSchedule } from '../../lib/schedule/schedule';
import { planRuns } from '../../lib/scheduler/plan';
import type { CatchUp, Task } from '../../lib/task/model';

const HOUR = 3_600_000;

export interface RawTaskOptions {
  id?: string;
  orgID?: string;
  every: string;
  offset?: string | undefined;
  status?: 'active' | 'inactive';
  catchUp?: CatchUp;
  latestScheduled: number;
  /** Defaults to the first instant after latestScheduled (+ offset) for active tasks. */
  nextRunAt?: number | undefined;
  concurrency?: number | undefined;
  metadata?: Record<string, unknown>;
}

/** A Task as TaskService.create builds it (the bench system's type), for raw seeding. */
export function rawTask(options: RawTaskOptions): Task {
  const schedule = compileSchedule({ every: options.every, offset: options.offset });
  const status = options.status ?? 'active';
  const nextRunAt =
    status === 'active'
      ? (options.nextRunAt ?? schedule.nextAfter(options.latestScheduled) + schedule.offsetMs)
      : undefined;
  const stamp = new Date().toISOString();
  return {
    id: options.id ?? ulid().toLowerCase(),
    type: 'bench',
    orgID: options.orgID ?? 'bench-org',
    name: 'bench task',
    description: '',
    status,
    every: options.every,
    offset: options.offset,
    concurrency: options.concurrency,
    catchUp: options.catchUp ?? 'latest',
    metadata: options.metadata ?? { fail: false },
    latestScheduled: new Date(options.latestScheduled).toISOString(),
    nextRunAt: nextRunAt === undefined ? undefined : new Date(nextRunAt).toISOString(),
    createdAt: stamp,
    updatedAt: stamp,
    version: 1,
    revision: 1,
  };
}

/**
 * An hourly schedule whose last `count` instants are due at `now` and whose next one
 * is outside the scheduler's 60 s lookahead, so one tick enqueues exactly `count`
 * runs, all due at once. Near the top of the hour the schedule takes a 30 m offset
 * so the next instant stays out of the lookahead.
 */
export function dueNowSchedule(now: number, count: number, catchUp: CatchUp) {
  for (const offset of [undefined, '30m']) {
    const schedule = compileSchedule({ every: '1h', offset });
    const last = schedule.latestAtOrBefore(now - schedule.offsetMs);
    const latestScheduled = last - count * HOUR;
    const probe = rawTask({ every: '1h', offset, catchUp, latestScheduled });
    const plan = planRuns(probe, now);
    if (plan.instants.length === count && plan.instants.every((t) => t + schedule.offsetMs <= now)) {
      return { every: '1h', offset, catchUp, latestScheduled };
    }
  }
  throw new Error('could not build a due-now schedule');
}
