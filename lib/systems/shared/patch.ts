import type { Task, TaskPatch } from '../../task/model';

/** Fields of a system's update body that belong to the task itself; the rest is metadata. */
const TASK_FIELDS = new Set([
  'name',
  'description',
  'status',
  'every',
  'offset',
  'jitter',
  'startAt',
  'endAt',
]);

/**
 * Splits a system's update body into task fields and a metadata patch, as a
 * function of the current task, so the metadata merge happens on the fresh read
 * inside TaskService's optimistic retry loop and never on a stale copy.
 */
export function splitPatch(body: Record<string, unknown>): (current: Task) => TaskPatch {
  const task: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined) continue;
    (TASK_FIELDS.has(key) ? task : metadata)[key] = value;
  }
  return (current) =>
    ({
      ...task,
      ...(Object.keys(metadata).length ? { metadata: { ...current.metadata, ...metadata } } : {}),
    }) as TaskPatch;
}
