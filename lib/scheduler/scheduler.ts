import type { Logger } from '@aws-lambda-powertools/logger';
import { MAX_DELAY_SECONDS, type QueuedRun, type RunQueue } from '../queue/run-queue';
import { scheduledRunID } from '../run/run-ids';
import { dueShardKeys } from '../store/keys';
import type { DueTask, TaskStore } from '../store/task-store';
import { DEFAULT_PLAN_OPTIONS, type Plan, type PlanOptions, planRuns } from './plan';

export interface TickReport {
  /** Tasks the due index returned. */
  due: number;
  /** Tasks whose schedule this tick advanced. */
  advanced: number;
  /** Tasks another writer changed between our read and our write (left to the next tick). */
  conflicts: number;
  enqueued: number;
  /** Tasks whose scheduling threw (logged with the task id); the rest of the tick went on. */
  failed: number;
  /** Due tasks left to the next tick because this one ran out of time. */
  deferred: number;
}

export interface TickOptions {
  /** Lambda's `context.getRemainingTimeInMillis`: the tick stops starting tasks near the deadline. */
  remainingTimeMs?: () => number;
  /**
   * The due shards this tick plans, `[from, to)` of the shards readers cover: a shard
   * worker of the fan-out plans its range only. @default every shard
   */
  shards?: ShardRange;
}

export interface ShardRange {
  from: number;
  to: number;
}

/** SQS's SendMessageBatch carries at most this many messages. */
const BATCH_SIZE = 10;

export interface SchedulerDeps {
  tasks: TaskStore;
  queue: RunQueue;
  /**
   * Due shards to read: every shard a task may be in. A task moves into the shards of the
   * current ROTA_DUE_SHARDS when it is advanced, so after the shard count is lowered this
   * must stay at the old count until the old shards are empty (ROTA_DUE_SHARDS_READ).
   */
  dueShards: number;
  logger: Logger;
  now?: () => number;
  plan?: Partial<PlanOptions>;
  /** Tasks advanced in parallel. */
  parallelism?: number;
  /** Time kept back from the deadline: no task starts with less left. @default 10_000 */
  budgetMarginMs?: number;
  /** Called for each task that failed (the Lambda counts them in a metric). */
  onTaskFailed?: (taskID: string, error: unknown) => void;
}

/**
 * One scheduler tick: read the due tasks from the sparse `due` index (every shard in
 * parallel, paged), enqueue each task's runs with DelaySeconds so each starts on its
 * second, then advance its cursor with a conditional write against the version read.
 * Cost follows the number of due tasks; stored-but-idle tasks are never read.
 *
 * Enqueue comes first: a crash between the two sends the same instants again on the
 * next tick, and their deterministic run IDs make the claim refuse the duplicates. The
 * other order loses the instants for good.
 */
export class Scheduler {
  private readonly now: () => number;
  private readonly options: PlanOptions;
  private readonly parallelism: number;
  private readonly budgetMarginMs: number;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? Date.now;
    this.options = { ...DEFAULT_PLAN_OPTIONS, ...deps.plan };
    this.parallelism = deps.parallelism ?? 16;
    this.budgetMarginMs = deps.budgetMarginMs ?? 10_000;
  }

  async tick(tickOptions: TickOptions = {}): Promise<TickReport> {
    const { deps, options, parallelism } = this;
    const at = this.now();
    const report: TickReport = { due: 0, advanced: 0, conflicts: 0, enqueued: 0, failed: 0, deferred: 0 };
    const range = tickOptions.shards ?? { from: 0, to: deps.dueShards };
    const due = await this.readDue(range, at + Math.min(options.dueWithinMs, options.lookaheadMs), report);
    report.due = due.length;
    const outOfTime = () =>
      (tickOptions.remainingTimeMs?.() ?? Number.POSITIVE_INFINITY) < this.budgetMarginMs;
    const deferFrom = (left: number) => {
      // The cursors of the rest did not move: the next tick finds them due, still in the window.
      report.deferred = left;
      deps.logger.warn('scheduler tick ran out of time', { deferred: report.deferred });
    };
    if (outOfTime()) {
      deferFrom(due.length);
      return report;
    }
    const planned = this.planAll(due, at, report);
    // Every task's runs due before the next tick first: a group's far-ahead runs (900 per
    // every-1s task) would otherwise hold back the next group's runs due now.
    const soon = at + options.dueWithinMs;
    await this.sendAcrossTasks(planned, (runAt) => runAt < soon);
    for (let i = 0; i < planned.length; i += parallelism) {
      // The first group goes on the look taken before the runs due soon were sent.
      if (i > 0 && outOfTime()) {
        // Their runs due soon were sent: the next tick sends them again, and the claim refuses the duplicates.
        deferFrom(planned.length - i);
        break;
      }
      await this.finishGroup(planned.slice(i, i + parallelism), soon, report);
    }
    return report;
  }

  /** Plans every active due task; a task whose plan throws is counted failed, the rest go on. */
  private planAll(due: readonly DueTask[], at: number, report: TickReport): PlannedTask[] {
    const planned: PlannedTask[] = [];
    for (const task of due) {
      // The index is eventually consistent: it may still show a task that was just deactivated.
      if (task.status !== 'active') continue;
      try {
        planned.push({ task, plan: planRuns(task, at, this.options), sent: true });
      } catch (error) {
        this.taskFailed(task, error, report);
      }
    }
    return planned;
  }

  /**
   * Sends the rest of a group's runs in shared batches of ten (one SendMessageBatch
   * carries runs of several tasks), then advances each task whose batches were all sent,
   * its runs due soon included. A task whose batch failed keeps its cursor: the next tick
   * sends its instants again under the same run IDs.
   */
  private async finishGroup(group: PlannedTask[], soon: number, report: TickReport): Promise<void> {
    // A task whose runs due soon did not all go out is not advanced: its rest need not go either.
    await this.sendAcrossTasks(
      group.filter((entry) => entry.sent),
      (runAt) => runAt >= soon,
    );
    await Promise.all(
      group.map((entry) =>
        entry.sent
          ? this.advance(entry, report).catch((error) => this.taskFailed(entry.task, error, report))
          : this.taskFailed(entry.task, entry.error, report),
      ),
    );
  }

  /**
   * Sends the runs `include` picks, soonest first, and measures each round's delays when that round
   * leaves. A group of every-1s tasks is thousands of messages: in task order with one
   * clock reading, the first runs of its last tasks left seconds after their delays were
   * measured and arrived that much late (issue 14, docs/decisions/0026).
   */
  private async sendAcrossTasks(planned: PlannedTask[], include: (runAt: number) => boolean): Promise<void> {
    const entries = planned
      .flatMap((entry) =>
        entry.plan.instants.map((scheduledFor) => ({
          entry,
          scheduledFor,
          runAt: entry.plan.runAt(scheduledFor),
        })),
      )
      .filter(({ runAt }) => include(runAt))
      .sort((a, b) => a.runAt - b.runAt);
    const batches: (typeof entries)[] = [];
    for (let i = 0; i < entries.length; i += BATCH_SIZE) batches.push(entries.slice(i, i + BATCH_SIZE));
    // A handful of batches in flight keeps a long plan quick without a burst.
    for (let i = 0; i < batches.length; i += SEND_CONCURRENCY) {
      const sentAt = this.now();
      await Promise.all(
        batches.slice(i, i + SEND_CONCURRENCY).map(async (batch) => {
          try {
            await this.deps.queue.enqueue(
              batch.map(({ entry, scheduledFor, runAt }) =>
                queuedRun(entry.task, scheduledFor, runAt, sentAt),
              ),
            );
          } catch (error) {
            for (const { entry } of batch) {
              entry.sent = false;
              entry.error = error;
            }
          }
        }),
      );
    }
  }

  private async advance({ task, plan }: PlannedTask, report: TickReport): Promise<void> {
    const change = {
      latestScheduled: new Date(plan.latestScheduled).toISOString(),
      nextRunAt: plan.nextRunAt === undefined ? undefined : new Date(plan.nextRunAt).toISOString(),
    };
    if (!(await this.deps.tasks.advanceSchedule(task.id, task.version, change))) {
      // Another writer got there first. What we sent is a duplicate for the claim to refuse,
      // or of a replaced schedule, which the executor drops by its revision.
      report.conflicts++;
      return;
    }
    report.advanced++;
    report.enqueued += plan.instants.length;
    // The scheduling fields only: the task document (targets, bodies, metadata) stays out of logs.
    this.deps.logger.debug('task scheduled', {
      taskID: task.id,
      type: task.type,
      orgID: task.orgID,
      revision: task.revision,
      every: task.every,
      cron: task.cron,
      offset: task.offset,
      timezone: task.timezone,
      jitter: task.jitter,
      startAt: task.startAt,
      endAt: task.endAt,
      catchUp: task.catchUp,
      latestScheduled: change.latestScheduled,
      nextRunAt: change.nextRunAt,
      runs: plan.instants.length,
      skippedMissed: plan.skipped,
    });
  }

  private async readDue(range: ShardRange, until: number, report: TickReport): Promise<DueTask[]> {
    const shards = dueShardKeys(this.deps.dueShards).slice(range.from, range.to);
    const pages = await Promise.all(shards.map((shard) => this.readShard(shard, until, report)));
    return pages.flat();
  }

  private async readShard(shard: string, until: number, report: TickReport): Promise<DueTask[]> {
    const found: DueTask[] = [];
    let cursor: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.deps.tasks.queryDue(shard, until, cursor);
        found.push(...page.tasks);
        cursor = page.cursor;
      } while (cursor);
    } catch (error) {
      // One shard that cannot be read leaves its tasks to the next tick, not the others.
      report.failed++;
      this.deps.logger.error('could not read a due shard', { error, shard });
    }
    return found;
  }

  private taskFailed(task: DueTask, error: unknown, report: TickReport): void {
    report.failed++;
    this.deps.logger.error('could not schedule a task', { error, taskID: task.id });
    this.deps.onTaskFailed?.(task.id, error);
  }
}

/** Batches in flight at once. */
const SEND_CONCURRENCY = 8;

interface PlannedTask {
  task: DueTask;
  plan: Plan;
  /** False once a batch carrying one of its runs failed: the task is then not advanced. */
  sent: boolean;
  error?: unknown;
}

/**
 * One instant as a message, delayed to the nearest whole second of its run time
 * (`scheduledFor + offset + jitter`; the message keeps the instant): it arrives within half
 * a second of it, and the executor runs it at once instead of sleeping out a remainder
 * (docs/decisions/0014).
 */
function queuedRun(task: DueTask, scheduledFor: number, runAt: number, sentAt: number): QueuedRun {
  return {
    message: {
      taskID: task.id,
      runID: scheduledRunID(task.id, scheduledFor),
      scheduledFor: new Date(scheduledFor).toISOString(),
      kind: 'scheduled',
      attempt: 1,
      revision: task.revision,
      waits: 0,
    },
    delaySeconds: nearestDelaySeconds(runAt - sentAt),
  };
}

/** A delay in whole seconds, rounded to the nearest, within SQS's 0–900. */
export function nearestDelaySeconds(ms: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(ms / 1000)));
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  return new Scheduler(deps);
}
