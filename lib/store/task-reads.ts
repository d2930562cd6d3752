import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { type Task, taskStatusSchema } from '../task/model';
import { INDEX, orgTypePk } from './keys';
import type { TaskCondition, TaskItems } from './task-items';
import type { DueTask, ListTasksQuery } from './task-types';

export { deleteTask, getTask, putTask } from './task-items';

/** One org's tasks of one type through byOrgType, by id, with optional filters on name, status and owner. */
export async function listTasks(
  items: TaskItems,
  { orgID, type, after, limit, name, status, ownerID }: ListTasksQuery,
): Promise<{ tasks: Task[]; more: boolean }> {
  const filters: TaskCondition[] = [];
  if (name !== undefined) filters.push({ attr: 'name', eq: name });
  if (ownerID !== undefined) filters.push({ attr: 'ownerID', eq: ownerID });
  if (status !== undefined) {
    const stored = taskStatusSchema.safeParse(status);
    // No stored task has a status outside the enum: such a filter matches nothing.
    if (!stored.success) return { tasks: [], more: false };
    filters.push({ attr: 'status', eq: stored.data });
  }
  const query = items.table
    .build(QueryCommand)
    .entities(items.tasks)
    // DynamoDB refuses an empty-string key value, so the cursor condition exists only with a cursor.
    .query({
      index: INDEX.byOrgType,
      partition: orgTypePk(orgID, type),
      ...(after !== undefined ? { range: { gt: after } } : {}),
    });
  const tasks: Task[] = [];
  let cursor: Record<string, unknown> | undefined;
  // Filters can thin a page, so keep reading until one extra match proves there is more.
  do {
    const params = query
      .options({
        limit: limit + 1,
        ...(filters.length ? { filters: { task: { and: filters } } } : {}),
        ...(cursor ? { exclusiveStartKey: cursor } : {}),
      })
      .params();
    const page = await items.send.query(params);
    tasks.push(...page.items.map(items.task));
    cursor = page.cursor;
  } while (cursor && tasks.length <= limit);
  return { tasks: tasks.slice(0, limit), more: tasks.length > limit };
}

/** One page of the due index for one shard, oldest due first: the scheduling fields only. */
export async function queryDue(
  items: TaskItems,
  shard: string,
  untilMs: number,
  cursor?: Record<string, unknown>,
): Promise<{ tasks: DueTask[]; cursor?: Record<string, unknown> | undefined }> {
  const params = items.table
    .build(QueryCommand)
    .entities(items.tasks)
    .query({ index: INDEX.due, partition: shard, range: { lte: untilMs } })
    .options(cursor ? { exclusiveStartKey: cursor } : {})
    .params();
  const page = await items.send.query(params);
  return { tasks: page.items.map(items.dueTask), cursor: page.cursor };
}
