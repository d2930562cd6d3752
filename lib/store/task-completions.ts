import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { $remove } from 'dynamodb-toolbox/entity/actions/update/symbols';
import { Formatter } from 'dynamodb-toolbox/schema/actions/format';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { runIDLowerBound } from '../run/run-ids';
import {
  asCompletion,
  COMPLETION_FIELDS,
  type Completion,
  type Completions,
  foldCompletions,
  type RunOutcome,
  seenEnough,
  shownBy,
} from '../task/completions';
import type { Task } from '../task/model';
import { runSchema } from './entities';
import { formatStored, wrote } from './items';
import { RUN_PREFIX, taskPk } from './keys';
import { getTask, type TaskItems } from './task-items';

/**
 * The task's completion bookkeeping (lib/task/completions.ts): a checkpoint on the task
 * item, written only when a completion changes it, and the runs since it, read on demand.
 */

/** Runs a reader looks at per page, and the pages it reads at most: a bounded read per task. */
const PAGE = 10;
const MAX_PAGES = 3;

const outcomeFormatter = runSchema
  .pick('status', 'scheduledFor', 'startedAt', 'finishedAt', 'error')
  .build(Formatter);

/** The completions among a task's runs scheduled at or after its checkpoint, newest first, as far as a reader needs. */
async function completionsSince(items: TaskItems, checkpoint: Completions & { id: string }) {
  const from = checkpoint.latestCompleted;
  const lower = `${RUN_PREFIX}${from !== undefined ? runIDLowerBound(Date.parse(from)) : ''}`;
  const query = items.table
    .build(QueryCommand)
    .entities(items.tasks)
    .query({ partition: taskPk(checkpoint.id), range: { between: [lower, `${RUN_PREFIX}~`] } });
  const found: Completion[] = [];
  let oldestSeen: string | undefined;
  let cursor: Record<string, unknown> | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const params = query
      .options({
        reverse: true,
        limit: PAGE,
        consistent: true,
        ...(cursor ? { exclusiveStartKey: cursor } : {}),
      })
      .params();
    const out = await items.send.query(params);
    for (const item of out.items) {
      const run = formatStored(outcomeFormatter, item) as RunOutcome;
      oldestSeen = run.scheduledFor;
      const completion = asCompletion(run);
      if (completion) found.push(completion);
    }
    cursor = out.cursor;
    if (!cursor || seenEnough(checkpoint, found, oldestSeen)) break;
  }
  return found;
}

/** A task with its completion bookkeeping up to date: the checkpoint and the runs since it. */
export async function withCompletions<T extends Task>(items: TaskItems, task: T): Promise<T> {
  const latest = foldCompletions(task, await completionsSince(items, task));
  const out: T = { ...task };
  for (const field of COMPLETION_FIELDS) (out as Record<string, unknown>)[field] = latest[field];
  return out;
}

/** Writes a checkpoint, unless a newer one is already there. */
async function writeCheckpoint(items: TaskItems, id: string, checkpoint: Completions): Promise<boolean> {
  const fields: Record<string, unknown> = { id };
  for (const field of COMPLETION_FIELDS) fields[field] = checkpoint[field] ?? $remove();
  const latest = checkpoint.latestCompleted ?? '';
  const update = items.tasks
    .build(UpdateItemCommand)
    .item(fields as never)
    .options({
      condition: {
        and: [
          { attr: 'id', exists: true },
          {
            or: [
              { attr: 'latestCompleted', exists: false },
              { attr: 'latestCompleted', lte: latest },
            ],
          },
        ],
      },
    });
  return wrote(() => items.send.update(update.params()));
}

/**
 * Records a completion. `seen` is the task as the caller last read it (the executor's
 * admit); without it the task item is read. Nothing is written when the checkpoint
 * already shows the run, which is every run that repeats the last outcome. Otherwise
 * the checkpoint is brought up to date from the runs since it, and written; a writer
 * that lost to a newer checkpoint re-reads and tries once more.
 */
export async function recordCompletion(
  items: TaskItems,
  id: string,
  completion: Completion,
  seen?: Task,
): Promise<void> {
  let task = seen ?? (await getTask(items, id));
  for (let attempt = 0; attempt < 2 && task; attempt++) {
    if (shownBy(task, completion)) return;
    const since = await completionsSince(items, task);
    const checkpoint = foldCompletions(task, [...since, completion]);
    if (await writeCheckpoint(items, id, checkpoint)) return;
    task = await getTask(items, id);
  }
}
