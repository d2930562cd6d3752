import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { type Task, taskStatusSchema } from '../task/model';
import { INDEX, orgTypePk } from './keys';
import { mergedPage } from './org-directory';
import type { TaskCondition, TaskItems } from './task-items';
import type { DueTask, ListTasksQuery } from './task-types';

export { deleteTask, getTask, putTask } from './task-items';

/**
 * One org's tasks of one type through byOrgType, by id, with optional filters on name,
 * status and owner; without `orgID`, every org's in the type's directory, merged by id.
 */
export async function listTasks(
  items: TaskItems,
  query: ListTasksQuery,
): Promise<{ tasks: Task[]; more: boolean }> {
  const filters = filtersOf(query);
  if (filters === undefined) return { tasks: [], more: false };
  const { orgID, type, limit } = query;
  if (orgID !== undefined) {
    const tasks = await listOrg(items, orgID, query, filters);
    return { tasks: tasks.slice(0, limit), more: tasks.length > limit };
  }
  const orgs = await items.orgs(type).orgs();
  const page = await mergedPage(orgs, limit, (org) => listOrg(items, org, query, filters));
  return { tasks: page.items, more: page.more };
}

/** The list's filters; undefined when one can match nothing. */
function filtersOf({ name, status, ownerID }: ListTasksQuery): TaskCondition[] | undefined {
  const filters: TaskCondition[] = [];
  if (name !== undefined) filters.push({ attr: 'name', eq: name });
  if (ownerID !== undefined) filters.push({ attr: 'ownerID', eq: ownerID });
  if (status !== undefined) {
    const stored = taskStatusSchema.safeParse(status);
    // No stored task has a status outside the enum: such a filter matches nothing.
    if (!stored.success) return undefined;
    filters.push({ attr: 'status', eq: stored.data });
  }
  return filters;
}

/** Up to `limit + 1` of one org's tasks past `after`: one extra tells whether another page exists. */
async function listOrg(
  items: TaskItems,
  orgID: string,
  { type, after, limit }: ListTasksQuery,
  filters: TaskCondition[],
): Promise<Task[]> {
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
  return tasks;
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
