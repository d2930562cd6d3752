import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { $add, $append, $get, $remove, $set } from 'dynamodb-toolbox/entity/actions/update/symbols';
import type { Run, RunLogEntry } from '../run/model';
import { whenConditionHolds, wrote } from './items';
import { prepare } from './prepared';
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

/** A conditional UpdateItem whose caller only needs to know whether it held. */
export const wroteRun = (items: RunItems, builder: { params(): Record<string, unknown> }) =>
  wrote(() => items.send.write(builder.params()));

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

/** The claim's shape: whether the run is in the open index, whether it has a runAt, and its kind. */
const claimCommand = (items: RunItems) =>
  prepare(
    {
      taskID: 'string',
      runID: 'string',
      token: 'string',
      now: 'number',
      startedAt: 'string',
      claimExpiresAt: 'number',
      scheduledFor: 'string',
      attempt: 'number',
      runAt: 'string',
      expiresAt: 'number',
      stallAt: 'number',
    },
    (v, shape: `${Run['kind']} ${'runAt' | '-'} ${'open' | 'leave' | '-'}`) => {
      const [kind, runAt, open] = shape.split(' ') as [Run['kind'], string, string];
      return runUpdate(items)
        .item({
          taskID: v.taskID,
          id: v.runID,
          status: 'started',
          startedAt: v.startedAt,
          claimToken: v.token,
          claimExpiresAt: v.claimExpiresAt,
          // if_not_exists keeps what a manual run already stored; the seed fills in a scheduled run.
          kind: $get('kind', kind),
          scheduledFor: $get('scheduledFor', v.scheduledFor),
          attempt: $get('attempt', v.attempt),
          ...(runAt === 'runAt' ? { runAt: $get('runAt', v.runAt) } : {}),
          log: $get('log', []),
          expiresAt: v.expiresAt,
          ...(open === 'open' ? { openAt: v.stallAt } : {}),
          ...(open === 'leave' ? { openPk: $remove(), openAt: $remove() } : {}),
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
                  { attr: 'claimExpiresAt', lt: v.now },
                ],
              },
            ],
          },
          returnValues: 'ALL_NEW',
        });
    },
  );

export async function claimRun(
  items: RunItems,
  inspect: Inspect,
  request: ClaimRequest,
): Promise<ClaimResult> {
  const { taskID, runID, token, now, claimTtlMs, seed, stallAt, leaveOpenIndex } = request;
  const open = leaveOpenIndex ? 'leave' : stallAt !== undefined ? 'open' : '-';
  const shape = `${seed.kind} ${seed.runAt ? 'runAt' : '-'} ${open}` as const;
  const params = prepared(items).claim(shape, {
    taskID,
    runID,
    token,
    now,
    startedAt: iso(now),
    claimExpiresAt: now + claimTtlMs,
    scheduledFor: seed.scheduledFor,
    attempt: seed.attempt,
    runAt: seed.runAt ?? '',
    expiresAt: items.ttl(now),
    stallAt: stallAt ?? 0,
  });
  const out = await whenConditionHolds(() => items.send.update(params));
  if (!out) return { claimed: false, state: await inspect(taskID, runID) };
  const claims = items.claims(out);
  return { claimed: true, claims, resumed: claims > 1 };
}

/** The heartbeat: one shape. */
const heartbeatCommand = (items: RunItems) =>
  prepare({ taskID: 'string', runID: 'string', token: 'string', claimExpiresAt: 'number' }, (v) =>
    runUpdate(items)
      .item({ taskID: v.taskID, id: v.runID, claimExpiresAt: v.claimExpiresAt })
      .options({
        condition: {
          and: [
            { attr: 'claimToken', eq: v.token },
            { attr: 'status', eq: 'started' },
          ],
        },
      }),
  );

export async function heartbeatRun(
  items: RunItems,
  key: { taskID: string; id: string },
  token: string,
  claimExpiresAt: number,
): Promise<boolean> {
  const params = prepared(items).heartbeat('one', {
    taskID: key.taskID,
    runID: key.id,
    token,
    claimExpiresAt,
  });
  return wrote(() => items.send.update(params));
}

/**
 * A live-log flush: replaces the run's flushed lines with all its executor has written so
 * far (idempotent, so a flush whose answer was lost is safe to send again). Held only by
 * the claim's token on a started run: a stale executor, or one whose run already ended,
 * writes nothing. It leaves the claim to the heartbeat, which also keeps the slot.
 */
const flushCommand = (items: RunItems) =>
  prepare({ taskID: 'string', runID: 'string', token: 'string', liveLog: 'log' }, (v) =>
    runUpdate(items)
      .item({ taskID: v.taskID, id: v.runID, liveLog: $set(v.liveLog) })
      .options({
        condition: {
          and: [
            { attr: 'claimToken', eq: v.token },
            { attr: 'status', eq: 'started' },
          ],
        },
      }),
  );

export async function flushRunLog(
  items: RunItems,
  key: { taskID: string; id: string },
  token: string,
  log: RunLogEntry[],
): Promise<boolean> {
  const params = prepared(items).flush('one', { taskID: key.taskID, runID: key.id, token, liveLog: log });
  return wrote(() => items.send.update(params));
}

/** The final write's shape: the outcome (cancel wins: only a cancel may end a run asked to cancel) and whether it has an error. */
const finishCommand = (items: RunItems) =>
  prepare(
    {
      taskID: 'string',
      runID: 'string',
      token: 'string',
      finishedAt: 'string',
      log: 'log',
      expiresAt: 'number',
      error: 'string',
    },
    (v, shape: `${FinishRequest['status']} ${'error' | '-'}`) => {
      const [status, error] = shape.split(' ') as [FinishRequest['status'], string];
      const held: RunCondition[] = [
        { attr: 'claimToken', eq: v.token },
        { attr: 'status', eq: 'started' },
      ];
      return runUpdate(items)
        .item({
          taskID: v.taskID,
          id: v.runID,
          status,
          finishedAt: v.finishedAt,
          // Appended: a waiting run's log already says why it waited.
          log: $append(v.log),
          // The final log holds every line: the flushed copy goes.
          liveLog: $remove(),
          expiresAt: v.expiresAt,
          ...(error === 'error' ? { error: v.error } : {}),
          ...UNCLAIMED,
          ...CLOSED,
        })
        .options({
          condition:
            status === 'canceled'
              ? { and: held }
              : { and: [...held, { attr: 'cancelRequested', exists: false }] },
          returnValues: 'ALL_NEW',
        });
    },
  );

export async function finishRun(
  items: RunItems,
  key: { taskID: string; id: string },
  token: string,
  result: FinishRequest,
): Promise<Run | undefined> {
  const params = prepared(items).finish(`${result.status} ${result.error ? 'error' : '-'}`, {
    taskID: key.taskID,
    runID: key.id,
    token,
    finishedAt: result.finishedAt,
    log: result.log,
    expiresAt: items.ttl(Date.now()),
    error: result.error ?? '',
  });
  const out = await whenConditionHolds(() => items.send.update(params));
  return out ? items.run(out) : undefined;
}

export const preparedWrites = (items: RunItems) => ({
  claim: claimCommand(items),
  heartbeat: heartbeatCommand(items),
  flush: flushCommand(items),
  finish: finishCommand(items),
});
const preparedByStore = new WeakMap<RunItems, ReturnType<typeof preparedWrites>>();

/** The run engine's hot writes, prepared once per run store (lib/store/prepared.ts). */
function prepared(items: RunItems) {
  let writes = preparedByStore.get(items);
  if (!writes) {
    writes = preparedWrites(items);
    preparedByStore.set(items, writes);
  }
  return writes;
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
    });
  const waiting = await wroteRun(items, update);
  return waiting ? { waiting: true } : { waiting: false, state: await inspect(taskID, runID) };
}
