import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import type { Run } from '../run/model';
import { runIDLowerBound, runIDUpperBound } from '../run/run-ids';
import { RUN_PREFIX, runSk, taskPk } from './keys';
import type { RunItems, RunState } from './run-items';
import type { ListRunsQuery, OpenRun } from './run-types';

/** The run store's reads; every item comes back through the run entity's formatter. */

export async function inspectRun(
  items: RunItems,
  taskID: string,
  runID: string,
): Promise<RunState | undefined> {
  const get = items.runs.build(GetItemCommand).key({ taskID, id: runID }).options({ consistent: true });
  const out = await items.send.get(get.params());
  return out ? items.state(out) : undefined;
}

/** Newest first, by scheduledFor. */
export async function listRuns(items: RunItems, taskID: string, query: ListRunsQuery): Promise<Run[]> {
  const { after, limit, afterTime, beforeTime } = query;
  const lower = `${RUN_PREFIX}${afterTime !== undefined ? runIDLowerBound(afterTime) : ''}`;
  let upper = `${RUN_PREFIX}${beforeTime !== undefined ? runIDUpperBound(beforeTime) : '~'}`;
  // `after` is a cursor in listing order (newest first): continue with older runs.
  if (after !== undefined && runSk(after) < upper) upper = runSk(after);
  // A cursor older than afterTime leaves nothing between; DynamoDB refuses an inverted BETWEEN.
  if (upper < lower) return [];
  const params = items.table
    .build(QueryCommand)
    .entities(items.runs)
    .query({ partition: taskPk(taskID), range: { between: [lower, upper] } })
    .options({ reverse: true, limit: limit + 1 })
    .params();
  const { items: found } = await items.send.query(params);
  // BETWEEN is inclusive; the cursor itself is not part of the next page.
  return found
    .map(items.run)
    .filter((run) => run.id !== after)
    .slice(0, limit);
}

/** One page of the open index for one shard: runs whose `openAt` is at or before `untilMs`. */
export async function queryOpenRuns(
  items: RunItems,
  shard: string,
  untilMs: number,
  cursor?: Record<string, unknown>,
): Promise<{ runs: OpenRun[]; cursor?: Record<string, unknown> | undefined }> {
  const params = items.table
    .build(QueryCommand)
    .entities(items.runs)
    .query({ index: 'open', partition: shard, range: { lte: untilMs } })
    .options(cursor ? { exclusiveStartKey: cursor } : {})
    .params();
  const page = await items.send.query(params);
  return {
    // The index's sort key is `openAt`: every item it returns has one.
    runs: page.items.flatMap((item) => {
      const { run, openAt } = items.state(item);
      if (openAt === undefined) return [];
      return {
        taskID: run.taskID,
        runID: run.id,
        status: run.status,
        kind: run.kind,
        scheduledFor: run.scheduledFor,
        attempt: run.attempt,
        revision: run.revision,
        openAt,
      };
    }),
    cursor: page.cursor,
  };
}
