import { compileSchedule, type Schedule, type ScheduleSpec } from '../schedule/schedule';

/** A scheduled instant and when it runs (`scheduledFor + offset + jitter`), epoch ms. */
export interface UpcomingRun {
  scheduledFor: number;
  runAt: number;
}

/** The most instants `upcoming` answers. */
export const MAX_UPCOMING = 100;

/**
 * The schedule cursor for a task (re)starting at `at`: the first instant after the
 * cursor is the first one whose run time (`scheduledFor + offset`) is still ahead,
 * so a negative offset never produces a run that is already late. A task with a
 * `startAt` in the future starts its cursor just before it.
 */
export function scheduleCursorAt(spec: ScheduleSpec, at: number): string {
  const schedule = compileSchedule(spec);
  const cursor = Math.floor((at - schedule.offsetMs) / 1000) * 1000;
  return new Date(Math.max(cursor, schedule.startMs - 1)).toISOString();
}

/** When the first instant after `cursor` runs, or undefined when it would be past `endAt`. */
export function nextRunAtAfter(schedule: Schedule, taskID: string, cursor: number): number | undefined {
  const scheduledFor = schedule.nextAfter(Math.max(cursor, schedule.startMs - 1));
  return scheduledFor > schedule.endMs ? undefined : schedule.runAt(taskID, scheduledFor);
}

/** When the first instant after `latestScheduled` runs, as RFC3339; undefined past `endAt`. */
export function nextRunAfter(
  task: ScheduleSpec & { id?: string; latestScheduled: string },
): string | undefined {
  const runAt = nextRunAtAfter(compileSchedule(task), task.id ?? '', Date.parse(task.latestScheduled));
  return runAt === undefined ? undefined : new Date(runAt).toISOString();
}

/**
 * The next `limit` instants whose run time is after `now`, within `[startAt, endAt]`,
 * oldest first: what `GET /tasks/{id}/upcoming` lists. Computed from the schedule
 * alone; the scheduler's cursor runs up to one lookahead ahead of it.
 */
export function upcomingRuns(
  task: ScheduleSpec & { id?: string },
  now: number,
  limit: number,
): UpcomingRun[] {
  const schedule = compileSchedule(task);
  // An instant up to one jitter before `now - offset` may still run after now.
  let cursor = Math.max(now - schedule.offsetMs - schedule.jitterMs, schedule.startMs - 1);
  const out: UpcomingRun[] = [];
  while (out.length < limit) {
    // One walk per batch (a croner enumeration, not one lookup per instant). Only the
    // first instants of the first batch can fall before now, so a second batch is rare.
    const batch = schedule.between(cursor, schedule.endMs, limit - out.length);
    for (const scheduledFor of batch) {
      const runAt = schedule.runAt(task.id ?? '', scheduledFor);
      if (runAt > now) out.push({ scheduledFor, runAt });
    }
    const last = batch.at(-1);
    if (last === undefined) break;
    cursor = last;
  }
  return out;
}

/**
 * The next instant that will run after `now`, as its run time, RFC3339: what a user
 * reads as "next run" (the first of `upcomingRuns`). The scheduler's cursor
 * (`latestScheduled`, and the due index's time derived from it) runs up to one
 * scheduler interval ahead, because instants due within it are already queued with a delay.
 */
export function nextRunFrom(task: ScheduleSpec & { id?: string }, now: number): string | undefined {
  const next = upcomingRuns(task, now, 1)[0];
  return next ? new Date(next.runAt).toISOString() : undefined;
}
