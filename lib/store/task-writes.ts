import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { $remove, $set } from 'dynamodb-toolbox/entity/actions/update/symbols';
import type { Task } from '../task/model';
import { whenConditionHolds, wrote } from './items';
import { dueShard } from './keys';
import { dueAttributes, type TaskCondition, type TaskItems } from './task-items';
import type { CompletionRecord } from './task-types';

export { taskItems } from './task-items';

/** Fields a definition write (create/update) owns. Bookkeeping written by runs is not among them. */
const DEFINITION_FIELDS = [
  'ownerID',
  'name',
  'description',
  'status',
  'every',
  'cron',
  'offset',
  'timezone',
  'concurrency',
  'timeout',
  'retry',
  'catchUp',
  'metadata',
  'latestScheduled',
  'nextRunAt',
  'revision',
  'updatedAt',
] as const satisfies readonly (keyof Task)[];

/** What a write removes: a field the task no longer has is removed, not left behind. */
const setOrRemove = <T>(value: T | undefined) => (value === undefined ? $remove() : value);

/** A conditional UpdateItem on the task item that returns the stored task, or undefined when the condition failed. */
async function updateTask(
  items: TaskItems,
  fields: Record<string, unknown> & { id: string },
  condition: TaskCondition,
): Promise<Task | undefined> {
  const update = items.tasks
    .build(UpdateItemCommand)
    .item(fields as never)
    .options({ condition, returnValues: 'ALL_NEW' });
  const out = await whenConditionHolds(() => items.send.update(update.params()));
  return out ? items.task(out) : undefined;
}

const atVersion = (expectedVersion: number): TaskCondition[] => [
  { attr: 'id', exists: true },
  { attr: 'version', eq: expectedVersion },
];

/**
 * Writes the whole definition and its next run time in one conditional write against
 * `expectedVersion`; undefined when the version moved (a lost race).
 */
export async function replaceDefinition(
  items: TaskItems,
  task: Task,
  expectedVersion: number,
): Promise<Task | undefined> {
  const fields: Record<string, unknown> & { id: string } = { id: task.id, version: expectedVersion + 1 };
  // Whole values: a definition replaces retry and metadata, it does not merge into them.
  for (const field of DEFINITION_FIELDS) {
    const value = task[field];
    fields[field] = typeof value === 'object' && value !== null ? $set(value) : setOrRemove(value);
  }
  const due = dueAttributes(items, task);
  fields.duePk = due.duePk ?? $remove();
  fields.dueAt = due.dueAt ?? $remove();
  return updateTask(items, fields, { and: [...atVersion(expectedVersion), { attr: 'type', eq: task.type }] });
}

/** The scheduler's advance of `latestScheduled`/`nextRunAt`, conditional on the version it read. */
export async function advanceSchedule(
  items: TaskItems,
  id: string,
  expectedVersion: number,
  change: { latestScheduled: string; nextRunAt: string | undefined },
): Promise<Task | undefined> {
  const due = change.nextRunAt;
  return updateTask(
    items,
    {
      id,
      version: expectedVersion + 1,
      latestScheduled: change.latestScheduled,
      nextRunAt: setOrRemove(due),
      duePk: due ? dueShard(id, items.dueShards) : $remove(),
      dueAt: due ? Date.parse(due) : $remove(),
    },
    { and: atVersion(expectedVersion) },
  );
}

/** Moves the latest* bookkeeping forward; never backward. */
export async function recordCompletion(items: TaskItems, id: string, completion: CompletionRecord) {
  // Two independent forward-only moves: the overall latest, then the per-outcome one.
  // Each is a conditional write that loses harmlessly to a newer completion.
  const outcomeField =
    completion.status === 'success'
      ? 'latestSuccess'
      : completion.status === 'failed'
        ? 'latestFailure'
        : undefined;
  const base = {
    latestCompleted: completion.scheduledFor,
    lastRunStatus: completion.status,
    lastRunError: setOrRemove(completion.error),
  };
  const combined = outcomeField ? { ...base, [outcomeField]: completion.scheduledFor } : base;
  const moved = await forwardUpdate(items, id, combined, 'latestCompleted', completion.scheduledFor);
  if (!moved && outcomeField) {
    const fields = { [outcomeField]: completion.scheduledFor };
    await forwardUpdate(items, id, fields, outcomeField, completion.scheduledFor);
  }
}

async function forwardUpdate(
  items: TaskItems,
  id: string,
  fields: Record<string, unknown>,
  guard: 'latestCompleted' | 'latestSuccess' | 'latestFailure',
  value: string,
): Promise<boolean> {
  const notAfter: Record<typeof guard, TaskCondition> = {
    latestCompleted: {
      or: [
        { attr: 'latestCompleted', exists: false },
        { attr: 'latestCompleted', lte: value },
      ],
    },
    latestSuccess: {
      or: [
        { attr: 'latestSuccess', exists: false },
        { attr: 'latestSuccess', lte: value },
      ],
    },
    latestFailure: {
      or: [
        { attr: 'latestFailure', exists: false },
        { attr: 'latestFailure', lte: value },
      ],
    },
  };
  const update = items.tasks
    .build(UpdateItemCommand)
    .item({ id, ...fields } as never)
    .options({ condition: { and: [{ attr: 'id', exists: true }, notAfter[guard]] } });
  return wrote(() => items.send.update(update.params()));
}
