import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { $add, $append, $get, $remove } from 'dynamodb-toolbox/entity/actions/update/symbols';
import type { Run } from '../run/model';
import { whenConditionHolds, wrote } from './items';
import { CLOSED, type RunCondition, type RunItems, type RunState, UNCLAIMED } from './run-items';
import type { ClaimRequest, ClaimResult, FinishRequest, WaitRequest } from './run-types';

/**
 * The run engine's writes on a run that is created, claimed, kept alive or finished.
 * Every transition is one conditional write; a failed condition is an answer (the run
 * is someone else's, or already past that state), never an error.
 */

type Inspect = (taskID: string, runID: string) => Promise<RunState | undefined>;

const iso = (ms: number) => new Date(ms).toISOString();

/** A conditional UpdateItem that returns the new run, or undefined when the condition failed. */
export async function updateRun(items: RunItems, builder: { params(): Record<string, unknown> }) {
  const out = await whenConditionHolds(() => items.send.update(builder.params()));
  return out ? items.run(out) : undefined;
}

export const runUpdate = (items: RunItems) => items.runs.build(UpdateItemCommand);

export async function createRun(items: RunItems, run: Run, openAt: number): Promise<boolean> {
  const put = items.runs
    .build(PutItemCommand)
    .item({
      ...run,
      expiresAt: items.ttl(Date.now()),
      openPk: items.openShard(run.taskID),
      openAt,
    })
    .options({ condition: { attr: 'id', exists: false } });
  return wrote(() => items.send.put(put.params()));
}

export async function claimRun(
  items: RunItems,
  inspect: Inspect,
  request: ClaimRequest,
): Promise<ClaimResult> {
  const { taskID, runID, token, now, claimTtlMs, seed, stallAt } = request;
  const update = runUpdate(items)
    .item({
      taskID,
      id: runID,
      status: 'started',
      startedAt: iso(now),
      claimToken: token,
      claimExpiresAt: now + claimTtlMs,
      // if_not_exists keeps what a manual run already stored; the seed fills in a scheduled run.
      kind: $get('kind', seed.kind),
      scheduledFor: $get('scheduledFor', seed.scheduledFor),
      attempt: $get('attempt', seed.attempt),
      ...(seed.runAt ? { runAt: $get('runAt', seed.runAt) } : {}),
      log: $get('log', []),
      expiresAt: items.ttl(now),
      ...(stallAt !== undefined ? { openAt: stallAt } : {}),
      waitToken: $remove(),
      waiting: $remove(),
      claims: $add(1),
    })
    .options({
      condition: {
        or: [
          { attr: 'id', exists: false },
          { attr: 'status', eq: 'scheduled' },
          {
            and: [
              { attr: 'status', eq: 'started' },
              { attr: 'claimExpiresAt', lt: now },
            ],
          },
        ],
      },
      returnValues: 'ALL_NEW',
    });
  const run = await updateRun(items, update);
  if (!run) return { claimed: false, state: await inspect(taskID, runID) };
  return { claimed: true, run, resumed: (run.claims ?? 1) > 1 };
}

export async function heartbeatRun(
  items: RunItems,
  key: { taskID: string; id: string },
  token: string,
  claimExpiresAt: number,
): Promise<boolean> {
  const update = runUpdate(items)
    .item({ ...key, claimExpiresAt })
    .options({
      condition: {
        and: [
          { attr: 'claimToken', eq: token },
          { attr: 'status', eq: 'started' },
        ],
      },
    });
  return wrote(() => items.send.update(update.params()));
}

export async function finishRun(
  items: RunItems,
  key: { taskID: string; id: string },
  token: string,
  result: FinishRequest,
): Promise<Run | undefined> {
  const held: RunCondition[] = [
    { attr: 'claimToken', eq: token },
    { attr: 'status', eq: 'started' },
  ];
  const update = runUpdate(items)
    .item({
      ...key,
      status: result.status,
      finishedAt: result.finishedAt,
      // Appended: a waiting run's log already says why it waited.
      log: $append(result.log),
      expiresAt: items.ttl(Date.now()),
      ...(result.error ? { error: result.error } : {}),
      ...UNCLAIMED,
      ...CLOSED,
    })
    .options({
      // Cancel wins: only a canceled result may overwrite a run someone asked to cancel.
      condition:
        result.status === 'canceled'
          ? { and: held }
          : { and: [...held, { attr: 'cancelRequested', exists: false }] },
      returnValues: 'ALL_NEW',
    });
  return updateRun(items, update);
}

export async function waitRun(
  items: RunItems,
  inspect: Inspect,
  request: WaitRequest,
): Promise<{ waiting: true } | { waiting: false; state: RunState | undefined }> {
  const { taskID, runID, seed, revision, now, openAt, waitToken, expectedToken, logLine } = request;
  const update = runUpdate(items)
    .item({
      taskID,
      id: runID,
      status: 'scheduled',
      kind: $get('kind', seed.kind),
      scheduledFor: $get('scheduledFor', seed.scheduledFor),
      attempt: $get('attempt', seed.attempt),
      ...(seed.runAt ? { runAt: $get('runAt', seed.runAt) } : {}),
      ...(revision !== undefined ? { revision: $get('revision', revision) } : {}),
      openPk: items.openShard(taskID),
      openAt,
      waitToken,
      waiting: true,
      expiresAt: items.ttl(now),
      log: logLine ? $append([{ time: iso(now), message: logLine }]) : $get('log', []),
    })
    .options({
      // One message carries a waiting run: a copy may take over only once the carrier is overdue.
      condition: {
        and: [
          {
            or: [
              { attr: 'id', exists: false },
              { attr: 'status', eq: 'scheduled' },
            ],
          },
          {
            or: [
              { attr: 'waitToken', exists: false },
              ...(expectedToken ? [{ attr: 'waitToken', eq: expectedToken } satisfies RunCondition] : []),
              { attr: 'openAt', lt: now },
            ],
          },
        ],
      },
      returnValues: 'ALL_NEW',
    });
  const waiting = await updateRun(items, update);
  return waiting ? { waiting: true } : { waiting: false, state: await inspect(taskID, runID) };
}
