import type { Logger } from '@aws-lambda-powertools/logger';
import { InvalidError } from '../errors';
import { compileSchedule } from '../schedule/schedule';
import type { LeaseStore } from '../store/lease-store';
import type { RunStore } from '../store/run-store';
import { concurrencyFor, type Overlap, type Task } from '../task/model';
import { acceptedRun, type Run } from './model';
import type { RunQueue } from './queue-port';
import { scheduledRunID } from './run-ids';

/** The most instants one backfill may cover. */
export const BACKFILL_MAX_INSTANTS = 10_000;
/** How many run items one backfill writes at once: enough to finish 10,000 well inside an API call. */
const WRITES_IN_FLIGHT = 25;

export interface BackfillRequest {
  start: string;
  end: string;
  /** @default 'queue' */
  overlap?: Overlap | undefined;
}

export interface BackfillDeps {
  runs: RunStore;
  leases: LeaseStore;
  queue: RunQueue;
  logger: Logger;
  stallGraceMs: number;
  now: () => number;
}

/** What a backfill promised: every instant in the range (`runs`), of which `created` were new. */
export interface BackfillResult {
  runs: number;
  created: number;
}

/**
 * The schedule instants in `[start, end)` that the task's own `[startAt, endAt]` allows,
 * oldest first: a task runs no instant outside its time bounds, backfilled or not. A range
 * holding more than the cap is refused.
 */
export function backfillInstants(task: Task, start: number, end: number): number[] {
  const schedule = compileSchedule(task);
  const from = Math.max(start, schedule.startMs);
  const until = Math.min(end - 1, schedule.endMs);
  if (until < from) return [];
  // `between` walks (after, until]; one millisecond before `from` makes it [from, until].
  const instants = schedule.between(from - 1, until, BACKFILL_MAX_INSTANTS + 1);
  if (instants.length > BACKFILL_MAX_INSTANTS) {
    throw new InvalidError(`the range holds more than ${BACKFILL_MAX_INSTANTS} schedule instants; split it`);
  }
  return instants;
}

function checkRange(task: Task, start: number, end: number, now: number): void {
  if (task.status !== 'active') throw new InvalidError('task is inactive; activate it to backfill');
  if (end <= start) throw new InvalidError('end must be after start');
  if (end > now) throw new InvalidError('end must not be in the future');
}

/**
 * One run per schedule instant in `[start, end)`. The runs themselves are the promise:
 * each is stored (in the open index, so the reconciler delivers it if its message is
 * lost) before the call answers, and under the instant's scheduled run ID, so a
 * repeated backfill, a retry after a crash midway, or an instant the scheduler already
 * ran creates nothing twice. With a concurrency limit and `queue`, each run is also
 * marked waiting, which makes the gate start them oldest first whatever order their
 * messages arrive in.
 */
export async function backfill(
  deps: BackfillDeps,
  task: Task,
  request: BackfillRequest,
): Promise<BackfillResult> {
  const at = deps.now();
  const start = Date.parse(request.start);
  const end = Date.parse(request.end);
  checkRange(task, start, end, at);
  const instants = backfillInstants(task, start, end);
  const overlap = request.overlap ?? 'queue';
  const ordered = overlap === 'queue' && concurrencyFor(task) !== undefined;
  const created: Run[] = [];
  for (let i = 0; i < instants.length; i += WRITES_IN_FLIGHT) {
    const chunk = instants
      .slice(i, i + WRITES_IN_FLIGHT)
      .map((instant) => backfillRun(task, instant, overlap, at));
    // Settled, not raced: a failed write answers only once its neighbours have landed.
    const wrote = await Promise.allSettled(
      chunk.map(async (run) => {
        if (!(await deps.runs.create(run, at + deps.stallGraceMs))) return false;
        if (ordered) await deps.leases.addWaiter(task.id, run.id);
        return true;
      }),
    );
    const failed = wrote.find((w) => w.status === 'rejected');
    if (failed) throw failed.reason;
    created.push(...chunk.filter((_, j) => wrote[j]?.status === 'fulfilled' && wrote[j].value));
  }
  await send(deps, created);
  return { runs: instants.length, created: created.length };
}

const backfillRun = (task: Task, instant: number, overlap: Overlap, at: number): Run => ({
  ...acceptedRun({
    id: scheduledRunID(task.id, instant),
    taskID: task.id,
    kind: 'backfill',
    scheduledFor: instant,
    requestedAt: at,
  }),
  overlap,
});

/** Sends the stored runs, oldest first; a failed send leaves them to the reconciler. */
async function send(deps: BackfillDeps, runs: Run[]): Promise<void> {
  try {
    await deps.queue.enqueue(
      runs.map((run) => ({
        message: {
          taskID: run.taskID,
          runID: run.id,
          scheduledFor: run.scheduledFor,
          kind: run.kind,
          attempt: run.attempt,
          waits: 0,
        },
        delaySeconds: 0,
      })),
    );
  } catch (error) {
    deps.logger.warn('backfill stored but not all enqueued; the reconciler will send the rest', {
      error,
      taskID: runs[0]?.taskID,
      runs: runs.length,
    });
  }
}
