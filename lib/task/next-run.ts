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
