import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import type { Condition } from 'dynamodb-toolbox/entity/actions/parseCondition';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { Formatter } from 'dynamodb-toolbox/schema/actions/format';
import type { Task } from '../task/model';
import { taskEntity, taskSchema } from './entities';
import { formatStored, wrote } from './items';
import { DUE_PROJECTION, dueShard, orgTypePk, taskOrgsKey } from './keys';
import { type OrgDirectory, orgDirectories } from './org-directory';
import { packOffset, unpackOffset } from './schedule-extras';
import { type RotaTable, rotaTable, type TableSender } from './table';
import type { DueTask } from './task-types';

/** What the parts of the task store share: the task entity, its table, the sender. */
export interface TaskItems {
  table: RotaTable;
  tasks: ReturnType<typeof taskEntity>;
  send: TableSender;
  dueShards: number;
  /** A stored task item, checked against the entity's schema. */
  task(item: Record<string, unknown>): Task;
  /** A task as the due index projects it. */
  dueTask(item: Record<string, unknown>): DueTask;
  /** The orgs holding tasks of a type: how the operator lists across orgs. */
  orgs(type: string): OrgDirectory;
}

export type TaskCondition = Condition<ReturnType<typeof taskEntity>>;

export function taskItems(options: { tableName: string; send: TableSender; dueShards: number }): TaskItems {
  const table = rotaTable(options.tableName);
  const tasks = taskEntity(table);
  // Each read checks, against the entity's schema, the attributes its caller gets, and only
  // those: the formatter costs per schema attribute (a generator, and a RegExp for matching
  // projections even when none is asked), and the scheduler and the executor read a task
  // on every run. The due index projects 13 of the item's 31 attributes.
  const stored = taskSchema.build(Formatter);
  const due = taskSchema.pick(...DUE_PROJECTION).build(Formatter);
  return {
    table,
    tasks,
    send: options.send,
    dueShards: options.dueShards,
    task: (item) => withExtras(stored, item),
    dueTask: (item) => withExtras(due, item),
    orgs: orgDirectories(table, options.send, taskOrgsKey),
  };
}

/** A stored item formatted, with the schedule extras its `offset` attribute carries. */
function withExtras<T>(formatter: { format(item: unknown): T }, raw: Record<string, unknown>): T {
  const { item, extras } = unpackOffset(raw);
  return { ...formatStored(formatter, item), ...extras };
}

/** Only active tasks with a next run carry the due attributes: the index stays sparse. */
export const dueAttributes = (items: TaskItems, task: Pick<Task, 'id' | 'status' | 'nextRunAt'>) =>
  task.status === 'active' && task.nextRunAt
    ? { duePk: dueShard(task.id, items.dueShards), dueAt: Date.parse(task.nextRunAt) }
    : {};

const withoutExtras = ({ jitter: _j, startAt: _s, endAt: _e, ...task }: Task) => task;

/** Conditional create; false when the id already exists. */
export async function putTask(items: TaskItems, task: Task): Promise<boolean> {
  // Before the task, so the operator's list never misses a task's org.
  await items.orgs(task.type).register(task.orgID);
  const put = items.tasks
    .build(PutItemCommand)
    .item({
      ...withoutExtras(task),
      offset: packOffset(task),
      orgTypePk: orgTypePk(task.orgID, task.type),
      orgTypeSk: task.id,
      ...dueAttributes(items, task),
    })
    .options({ condition: { attr: 'id', exists: false } });
  return wrote(() => items.send.put(put.params()));
}

export async function getTask(items: TaskItems, id: string): Promise<Task | undefined> {
  const get = items.tasks.build(GetItemCommand).key({ id }).options({ consistent: true });
  const item = await items.send.get(get.params());
  return item ? items.task(item) : undefined;
}

/** Deletes when the task is still of `type`; false when it was not there. */
export async function deleteTask(items: TaskItems, id: string, type: string): Promise<boolean> {
  const del = items.tasks
    .build(DeleteItemCommand)
    .key({ id })
    .options({
      condition: {
        and: [
          { attr: 'id', exists: true },
          { attr: 'type', eq: type },
        ],
      },
    });
  return wrote(() => items.send.delete(del.params()));
}
