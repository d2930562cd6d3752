import type { Task } from '../task/model';

/**
 * The schedule fields the scheduler needs beyond the ones the `due` index projects.
 * The index's projection cannot change in place (CloudFormation replaces a GSI, and a
 * table updates one GSI at a time), so they ride in `offset`, an attribute the index
 * already projects: `<offset> jitter=<d> startAt=<t> endAt=<t>`, space-separated (no
 * duration or RFC3339 time holds a space). A task without them stores `offset` as it
 * always did, so items written before read back unchanged (docs/decisions/0019).
 */
const EXTRAS = ['jitter', 'startAt', 'endAt'] as const;
type Extra = (typeof EXTRAS)[number];
export type ScheduleExtras = Partial<Pick<Task, Extra>>;

/** The stored `offset` attribute of a task. */
export function packOffset(task: Pick<Task, 'offset' | Extra>): string | undefined {
  const extras = EXTRAS.flatMap((field) => (task[field] === undefined ? [] : [`${field}=${task[field]}`]));
  return extras.length === 0 ? task.offset : [task.offset ?? '', ...extras].join(' ');
}

/** A stored item with its `offset` attribute split into the offset and the extras. */
export function unpackOffset(item: Record<string, unknown>): {
  item: Record<string, unknown>;
  extras: ScheduleExtras;
} {
  const stored = item.offset;
  if (typeof stored !== 'string' || !stored.includes(' ')) return { item, extras: {} };
  const [offset, ...parts] = stored.split(' ');
  const extras: ScheduleExtras = {};
  for (const part of parts) {
    const [field, value] = [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)];
    if ((EXTRAS as readonly string[]).includes(field)) extras[field as Extra] = value;
  }
  const { offset: _packed, ...rest } = item;
  return { item: offset ? { ...rest, offset } : rest, extras };
}
