import type { Task, TaskDefinition, TaskPatch } from '../../task/model';

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

/**
 * InfluxDB's PUT as a patch: the whole definition replaces the task's own fields, and
 * what it leaves out is cleared (`null`), where a PATCH would keep it.
 */
export function replacementPatch(next: TaskDefinition): TaskPatch {
  return {
    name: next.name,
    description: next.description ?? null,
    status: next.status ?? 'active',
    every: next.every ?? null,
    offset: next.offset ?? null,
    jitter: next.jitter ?? null,
    startAt: next.startAt ?? null,
    endAt: next.endAt ?? null,
    metadata: next.metadata,
  };
}
