import { compileSchedule, type ScheduleSpec } from '../schedule/schedule';

/**
 * The schedule cursor for a task (re)starting at `at`: the first instant after the
 * cursor is the first one whose run time (`scheduledFor + offset`) is still ahead,
 * so a negative offset never produces a run that is already late.
 */
export function scheduleCursorAt(spec: ScheduleSpec, at: number): string {
  const offsetMs = compileSchedule(spec).offsetMs;
  const cursor = Math.floor((at - offsetMs) / 1000) * 1000;
  return new Date(cursor).toISOString();
}

/** When the first instant after `latestScheduled` runs, as RFC3339. */
export function nextRunAfter(task: ScheduleSpec & { latestScheduled: string }): string {
  const schedule = compileSchedule(task);
  const scheduledFor = schedule.nextAfter(Date.parse(task.latestScheduled));
  return new Date(scheduledFor + schedule.offsetMs).toISOString();
}

/**
 * The next instant that will run after `now`, as its run time (`scheduledFor + offset`),
 * RFC3339: what a user reads as "next run". The scheduler's cursor (`latestScheduled`,
 * and the due index's time derived from it) runs up to one scheduler interval ahead,
 * because instants due within it are already queued with a delay.
 */
export function nextRunFrom(spec: ScheduleSpec, now: number): string {
  const schedule = compileSchedule(spec);
  return new Date(schedule.nextAfter(now - schedule.offsetMs) + schedule.offsetMs).toISOString();
}
