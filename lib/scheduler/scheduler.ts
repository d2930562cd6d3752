import type { Logger } from '@aws-lambda-powertools/logger';
import { clampDelay, type QueuedRun, type RunQueue } from '../queue/run-queue';
import { scheduledRunID } from '../run/run-ids';
import { dueShardKeys } from '../store/keys';
import type { DueTask, TaskStore } from '../store/task-store';
import { DEFAULT_PLAN_OPTIONS, type PlanOptions, planRuns } from './plan';

export interface TickReport {
  /** Tasks the due index returned. */
  due: number;
  /** Tasks whose schedule this tick advanced. */
  advanced: number;
  /** Tasks another writer changed between our read and our write (left to the next tick). */
  conflicts: number;
  enqueued: number;
  failed: number;
}

export interface SchedulerDeps {
  tasks: TaskStore;
  queue: RunQueue;
  dueShards: number;
  logger: Logger;
  now?: () => number;
  plan?: Partial<PlanOptions>;
  /** Tasks advanced in parallel. */
  parallelism?: number;
}

/**
 * One scheduler tick: read the due tasks from the sparse `due` index (every shard in
 * parallel, paged), advance each task's cursor with a conditional write against the
 * version read, then enqueue its runs with DelaySeconds so each starts on its second.
 * Cost follows the number of due tasks; stored-but-idle tasks are never read.
 */
export function createScheduler(deps: SchedulerDeps) {
  const now = deps.now ?? Date.now;
  const options = { ...DEFAULT_PLAN_OPTIONS, ...deps.plan };
  const parallelism = deps.parallelism ?? 16;

  async function readDue(until: number): Promise<DueTask[]> {
    const pages = await Promise.all(
      dueShardKeys(deps.dueShards).map(async (shard) => {
        const found: DueTask[] = [];
        let cursor: Record<string, unknown> | undefined;
        do {
          const page = await deps.tasks.queryDue(shard, until, cursor);
          found.push(...page.tasks);
          cursor = page.cursor;
        } while (cursor);
        return found;
      }),
    );
    return pages.flat();
  }

  async function scheduleTask(task: DueTask, at: number, report: TickReport): Promise<void> {
    // The index is eventually consistent: it may still show a task that was just deactivated.
    if (task.status !== 'active') return;
    const plan = planRuns(task, at, options);
    const advanced = await deps.tasks.advanceSchedule(task.id, task.version, {
      latestScheduled: new Date(plan.latestScheduled).toISOString(),
      nextRunAt: new Date(plan.nextRunAt).toISOString(),
    });
    if (!advanced) {
      report.conflicts++;
      return;
    }
    report.advanced++;
    // Delays are measured when the batch leaves, not when the tick began: a tick with
    // many due tasks would otherwise deliver its last ones late.
    const sentAt = now();
    const runs: QueuedRun[] = plan.instants.map((scheduledFor) => ({
      message: {
        taskID: task.id,
        runID: scheduledRunID(task.id, scheduledFor),
        scheduledFor: new Date(scheduledFor).toISOString(),
        kind: 'scheduled',
        attempt: 1,
        revision: task.revision,
        waits: 0,
      },
      delaySeconds: clampDelay((scheduledFor + plan.offsetMs - sentAt) / 1000),
    }));
    try {
      await deps.queue.enqueue(runs);
      report.enqueued += runs.length;
      deps.logger.info('task scheduled', { task: advanced, runs: runs.length, skippedMissed: plan.skipped });
    } catch (error) {
      report.failed++;
      // Put the cursor back so the next tick enqueues these instants again; their
      // deterministic run IDs make any message that did get through harmless.
      const restored = await deps.tasks.advanceSchedule(task.id, advanced.version, {
        latestScheduled: task.latestScheduled,
        nextRunAt: task.nextRunAt,
      });
      deps.logger.error('enqueue failed', { error, taskID: task.id, restored: restored !== undefined });
    }
  }

  return {
    async tick(): Promise<TickReport> {
      const at = now();
      const due = await readDue(at + Math.min(options.dueWithinMs, options.lookaheadMs));
      const report: TickReport = { due: due.length, advanced: 0, conflicts: 0, enqueued: 0, failed: 0 };
      for (let i = 0; i < due.length; i += parallelism) {
        await Promise.all(due.slice(i, i + parallelism).map((task) => scheduleTask(task, at, report)));
      }
      return report;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
