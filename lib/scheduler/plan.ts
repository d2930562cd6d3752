import { compileSchedule } from '../schedule/schedule';
import { LIMITS, type Task } from '../task/model';
import { nextRunAtAfter } from '../task/next-run';

export interface PlanOptions {
  /** Enqueue everything that runs within this window; SQS delays each message to its instant. */
  lookaheadMs: number;
  /**
   * A tick reads only tasks whose next run is within this window (at most the
   * lookahead). With a tick much shorter than the lookahead, a task planned a minute
   * ahead is then re-read once per lookahead, not on every tick.
   */
  dueWithinMs: number;
  /** A run that should have started more than this long ago was missed (downtime), not just late. */
  missedGraceMs: number;
  /** Most runs one task may enqueue in one tick (catch-up included). */
  cap: number;
}

/** SQS's longest DelaySeconds: nothing can be planned further ahead than this. */
export const MAX_LOOKAHEAD_SECONDS = 900;

/** The default lookahead: SQS's maximum, so an every-1m task is advanced once per 15 runs. */
export const DEFAULT_LOOKAHEAD_SECONDS = MAX_LOOKAHEAD_SECONDS;

export const DEFAULT_PLAN_OPTIONS: PlanOptions = {
  lookaheadMs: 60_000,
  dueWithinMs: 60_000,
  missedGraceMs: 120_000,
  cap: LIMITS.catchUpCap,
};

/**
 * Plan options for a scheduler that fires every `intervalSeconds` and plans
 * `lookaheadSeconds` ahead. The lookahead is at least one interval (or runs between
 * ticks would start late) and at least a minute, so the minute-level tick keeps second
 * precision; beyond that, a longer lookahead plans more runs per advance (docs/decisions/0014).
 * A tick reads the tasks due within two ticks, so one late tick still finds every task
 * before its run is due; a run is missed only when it is later than two intervals (the
 * lookahead does not widen the grace: a task planned 15 minutes ahead is no later for it).
 */
export function planOptionsFor(
  intervalSeconds: number,
  lookaheadSeconds: number = DEFAULT_LOOKAHEAD_SECONDS,
): PlanOptions {
  const tick = intervalSeconds * 1000;
  const floor = Math.max(60_000, tick);
  const lookahead = Math.min(Math.max(floor, lookaheadSeconds * 1000), MAX_LOOKAHEAD_SECONDS * 1000);
  return {
    lookaheadMs: lookahead,
    dueWithinMs: Math.min(lookahead, 2 * tick),
    missedGraceMs: 2 * floor,
    cap: LIMITS.catchUpCap,
  };
}

export interface Plan {
  /** scheduledFor instants to enqueue, oldest first. */
  instants: number[];
  /** The new schedule cursor. */
  latestScheduled: number;
  /** When the first instant after the cursor runs; undefined when none is left before `endAt`. */
  nextRunAt: number | undefined;
  offsetMs: number;
  /** When an instant runs (`scheduledFor + offset + jitter`): the SQS delay is measured to it. */
  runAt: (scheduledFor: number) => number;
  /** Missed instants dropped by the catch-up policy (known exactly for `every`, else a lower bound of 0). */
  skipped: boolean;
}

type PlannedTask = Pick<Task, 'every' | 'cron' | 'offset' | 'timezone' | 'catchUp' | 'latestScheduled'> &
  Partial<Pick<Task, 'id' | 'jitter' | 'startAt' | 'endAt'>>;

/**
 * Which instants of a task to enqueue at `now`. Instants whose run time lies within
 * the lookahead are enqueued ahead of time; instants missed during downtime follow
 * the task's catch-up policy: `skip` drops them, `latest` keeps only the most
 * recent one, `all` replays them oldest first, `cap` per tick. No instant before
 * `startAt` or after `endAt` is planned. With a jitter, planning stops at the first
 * instant whose jittered run time lies beyond the lookahead (SQS cannot delay it that
 * long); the next tick plans it, as the due time is that run time.
 */
export function planRuns(task: PlannedTask, now: number, options: PlanOptions = DEFAULT_PLAN_OPTIONS): Plan {
  const schedule = compileSchedule(task);
  const offset = schedule.offsetMs;
  const runAt = (scheduledFor: number) => schedule.runAt(task.id ?? '', scheduledFor);
  let cursor = Math.max(Date.parse(task.latestScheduled), schedule.startMs - 1);
  const lookaheadEnd = now + options.lookaheadMs;
  const horizon = Math.min(lookaheadEnd - offset, schedule.endMs);
  const missedBefore = now - options.missedGraceMs - offset;
  const instants: number[] = [];
  let skipped = false;

  if (cursor < missedBefore && task.catchUp !== 'all') {
    const firstMissed = schedule.nextAfter(cursor);
    if (firstMissed <= missedBefore) {
      skipped = true;
      const lastMissed = schedule.latestAtOrBefore(Math.min(missedBefore, schedule.endMs));
      if (task.catchUp === 'latest' && lastMissed > cursor) instants.push(lastMissed);
    }
    cursor = missedBefore;
  }
  for (const scheduledFor of schedule.between(cursor, horizon, options.cap - instants.length)) {
    if (runAt(scheduledFor) > lookaheadEnd) break;
    instants.push(scheduledFor);
  }
  const latestScheduled = Math.max(cursor, instants.at(-1) ?? cursor);
  return {
    instants,
    latestScheduled,
    nextRunAt: nextRunAtAfter(schedule, task.id ?? '', latestScheduled),
    offsetMs: offset,
    runAt,
    skipped,
  };
}
