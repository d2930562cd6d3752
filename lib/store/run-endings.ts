import { $append, $get, $remove } from 'dynamodb-toolbox/entity/actions/update/symbols';
import type { Run } from '../run/model';
import { runUpdate, updateRun, wroteRun } from './run-claims';
import { CLOSED, logEntry, type RunCondition, type RunItems, type RunState, UNCLAIMED } from './run-items';
import type { ClaimRequest } from './run-types';

/**
 * The run engine's writes that end a run or hand it back: cancel, dead letters,
 * stalled holders, abandoned runs, and the reconciler's postponement.
 */

type Inspect = (taskID: string, runID: string) => Promise<RunState | undefined>;
type RunKey = { taskID: string; id: string };

/** No executor holds a started run whose claim expired. */
const expiredClaim = (now: number): RunCondition => ({
  and: [
    { attr: 'status', eq: 'started' },
    { attr: 'claimExpiresAt', lt: now },
  ],
});

export async function requestCancel(
  items: RunItems,
  inspect: Inspect,
  key: RunKey,
  now: number,
): Promise<'canceled' | 'requested' | 'final' | 'missing'> {
  // Each write's answer is only whether it held: no item comes back.
  const end = (condition: RunCondition, message?: string) =>
    wroteRun(
      items,
      runUpdate(items)
        .item({
          ...key,
          status: 'canceled',
          finishedAt: new Date(now).toISOString(),
          ...(message ? { log: $append(logEntry(now, message)) } : {}),
          ...UNCLAIMED,
          ...CLOSED,
        })
        .options({ condition }),
    );
  if (await end({ attr: 'status', eq: 'scheduled' })) return 'canceled';
  // No executor holds a started run whose claim expired: nobody would see a request, so end it here.
  const stranded = await end(
    expiredClaim(now),
    'run canceled: no executor held it any more (its claim had expired)',
  );
  if (stranded) return 'canceled';
  const running = await wroteRun(
    items,
    runUpdate(items)
      .item({ ...key, cancelRequested: true })
      .options({ condition: { attr: 'status', eq: 'started' } }),
  );
  if (running) return 'requested';
  return (await inspect(key.taskID, key.id)) ? 'final' : 'missing';
}

/**
 * A run item ended by the engine, not by its runner: created from `seed` if it was never
 * stored, with `reason` as its error and its one log line, unclaimed and out of the open index.
 */
function endedWithReason(
  items: RunItems,
  key: RunKey,
  seed: ClaimRequest['seed'],
  end: { status: 'failed' | 'canceled'; at: string; reason: string; now: number },
) {
  return {
    ...key,
    status: end.status,
    finishedAt: end.at,
    error: end.reason,
    kind: $get('kind', seed.kind),
    scheduledFor: $get('scheduledFor', seed.scheduledFor),
    attempt: $get('attempt', seed.attempt),
    expiresAt: items.ttl(end.now),
    log: $append([{ time: end.at, message: end.reason }]),
    ...UNCLAIMED,
    ...CLOSED,
  } as const;
}

export async function failUnfinished(
  items: RunItems,
  key: RunKey,
  seed: ClaimRequest['seed'],
  at: string,
  reason: string,
): Promise<boolean> {
  const update = runUpdate(items)
    .item(endedWithReason(items, key, seed, { status: 'failed', at, reason, now: Date.now() }))
    .options({
      condition: {
        or: [
          { attr: 'id', exists: false },
          { attr: 'status', in: ['scheduled', 'started'] },
        ],
      },
    });
  return wroteRun(items, update);
}

/**
 * Records an instant its task's `overlap: skip` turned away: created (or, if it was
 * stored waiting, ended) `canceled` with no `startedAt`. False when the run already
 * started or ended: a redelivered copy then leaves it as it is.
 */
export async function skipRun(
  items: RunItems,
  key: RunKey,
  seed: ClaimRequest['seed'],
  now: number,
  reason: string,
): Promise<boolean> {
  const at = new Date(now).toISOString();
  const update = runUpdate(items)
    .item(endedWithReason(items, key, seed, { status: 'canceled', at, reason, now }))
    .options({
      condition: {
        or: [
          { attr: 'id', exists: false },
          {
            and: [
              { attr: 'status', eq: 'scheduled' },
              { attr: 'startedAt', exists: false },
            ],
          },
        ],
      },
    });
  return wroteRun(items, update);
}

export async function requeueStalled(
  items: RunItems,
  key: RunKey,
  token: string,
  change: { now: number; openAt: number; logLine: string },
): Promise<boolean> {
  const update = runUpdate(items)
    .item({
      ...key,
      status: 'scheduled',
      openPk: items.openShard(key.taskID),
      openAt: change.openAt,
      waiting: true,
      log: $append(logEntry(change.now, change.logLine)),
      ...UNCLAIMED,
      // No waitToken: the first message of this run to arrive carries it from now on.
      waitToken: $remove(),
    })
    .options({
      condition: {
        and: [
          { attr: 'status', eq: 'started' },
          { attr: 'claimToken', eq: token },
          // A run someone asked to stop (a cancel, or a newer run replacing it) is not
          // run again: its reclaim ends it instead (see ConcurrencyGate.reclaim).
          { attr: 'cancelRequested', exists: false },
        ],
      },
    });
  return wroteRun(items, update);
}

export async function abandonRun(
  items: RunItems,
  key: RunKey,
  now: number,
  reason: string,
): Promise<Run | undefined> {
  const update = runUpdate(items)
    .item({
      ...key,
      status: 'canceled',
      finishedAt: new Date(now).toISOString(),
      log: $append(logEntry(now, reason)),
      ...UNCLAIMED,
      ...CLOSED,
    })
    .options({
      condition: {
        and: [{ attr: 'id', exists: true }, { or: [{ attr: 'status', eq: 'scheduled' }, expiredClaim(now)] }],
      },
      returnValues: 'ALL_NEW',
    });
  return updateRun(items, update);
}

export async function postponeOpen(
  items: RunItems,
  key: RunKey,
  seen: number,
  openAt: number,
): Promise<boolean> {
  const update = runUpdate(items)
    .item({ ...key, openAt, waitToken: $remove() })
    .options({
      condition: {
        and: [
          { attr: 'openAt', eq: seen },
          { attr: 'openPk', exists: true },
        ],
      },
    });
  return wroteRun(items, update);
}
