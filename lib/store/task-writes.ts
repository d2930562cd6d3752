import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { $remove, $set } from 'dynamodb-toolbox/entity/actions/update/symbols';
import type { Task } from '../task/model';
import { whenConditionHolds, wrote } from './items';
import { dueShard } from './keys';
import { prepare } from './prepared';
import { packOffset } from './schedule-extras';
import { dueAttributes, type TaskCondition, type TaskItems } from './task-items';

export { recordCompletion, withCompletions } from './task-completions';
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
  'overlap',
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
  // jitter, startAt and endAt ride in the projected offset attribute.
  fields.offset = setOrRemove(packOffset(task));
  const due = dueAttributes(items, task);
  fields.duePk = due.duePk ?? $remove();
  fields.dueAt = due.dueAt ?? $remove();
  return updateTask(items, fields, { and: [...atVersion(expectedVersion), { attr: 'type', eq: task.type }] });
}

/** The advance's shape: whether the task has a next run (and so stays in the due index). */
const advanceCommand = (items: TaskItems) =>
  prepare(
    {
      id: 'string',
      version: 'number',
      expectedVersion: 'number',
      latestScheduled: 'string',
      nextRunAt: 'string',
      duePk: 'string',
      dueAt: 'number',
    },
    (v, shape: 'due' | 'done') =>
      items.tasks
        .build(UpdateItemCommand)
        .item({
          id: v.id,
          version: v.version,
          latestScheduled: v.latestScheduled,
          ...(shape === 'due'
            ? { nextRunAt: v.nextRunAt, duePk: v.duePk, dueAt: v.dueAt }
            : { nextRunAt: $remove(), duePk: $remove(), dueAt: $remove() }),
        })
        // No caller reads the advanced task; ALL_NEW stays so the item after the write is on the
        // wire, where the bench's counter sizes the due index's writes from it (bench/support/counter.ts).
        .options({ condition: { and: atVersion(v.expectedVersion) }, returnValues: 'ALL_NEW' }),
  );

export const preparedTaskWrites = (items: TaskItems) => ({
  advance: advanceCommand(items),
});
const preparedByStore = new WeakMap<TaskItems, ReturnType<typeof preparedTaskWrites>>();

/** The scheduler's and the executor's writes on every run, prepared once per task store (lib/store/prepared.ts). */
function prepared(items: TaskItems) {
  let writes = preparedByStore.get(items);
  if (!writes) {
    writes = preparedTaskWrites(items);
    preparedByStore.set(items, writes);
  }
  return writes;
}

/**
 * The scheduler's advance of `latestScheduled`/`nextRunAt`, conditional on the version it
 * read; false when the version moved. The scheduler only needs to know whether it held, so
 * the returned item is neither unmarshalled nor formatted (once per run, the cost matters).
 */
export async function advanceSchedule(
  items: TaskItems,
  id: string,
  expectedVersion: number,
  change: { latestScheduled: string; nextRunAt: string | undefined },
): Promise<boolean> {
  const due = change.nextRunAt;
  const params = prepared(items).advance(due ? 'due' : 'done', {
    id,
    version: expectedVersion + 1,
    expectedVersion,
    latestScheduled: change.latestScheduled,
    nextRunAt: due ?? '',
    duePk: due ? dueShard(id, items.dueShards) : '',
    dueAt: due ? Date.parse(due) : 0,
  });
  return wrote(() => items.send.write(params));
}
