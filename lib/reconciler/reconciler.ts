import type { Logger } from '@aws-lambda-powertools/logger';
import type { RunQueue } from '../queue/run-queue';
import type { RunMessage } from '../run/model';
import { openShardKeys } from '../store/keys';
import type { OpenRun, RunStore } from '../store/run-store';

export interface ReconcileReport {
  /** Open runs past their stall time that this pass looked at. */
  overdue: number;
  /** `scheduled` runs sent again. */
  requeued: number;
  /** `started` runs whose claim had expired, sent again to be resumed. */
  resumed: number;
  /** `started` runs whose executor still holds them: looked at again later. */
  postponed: number;
  failed: number;
  /** Left to the next pass because this one ran out of time. */
  deferred: boolean;
}

export interface ReconcilerDeps {
  runs: RunStore;
  queue: RunQueue;
  shards: number;
  logger: Logger;
  /** How long after it was due an open run counts as stalled (the claim TTL). */
  graceMs: number;
  now?: () => number;
  /** Time kept back from the deadline. @default 10_000 */
  budgetMarginMs?: number;
}

/**
 * The database is the source of truth for every run that has an item; the queue only
 * delivers. The reconciler reads the sparse `open` index (runs stored before they
 * start: manual runs, retries, waiting runs) for entries past their stall time, and
 * sends those runs again. Sending is idempotent: run IDs are fixed and the claim lets
 * one delivery start a run, so a run that was merely slow costs a duplicate message.
 *
 * Its cost follows the open runs, never the stored ones: one Query per shard per pass.
 */
export class Reconciler {
  private readonly now: () => number;
  private readonly budgetMarginMs: number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? Date.now;
    this.budgetMarginMs = deps.budgetMarginMs ?? 10_000;
  }

  async reconcile(options: { remainingTimeMs?: () => number } = {}): Promise<ReconcileReport> {
    const at = this.now();
    const report: ReconcileReport = {
      overdue: 0,
      requeued: 0,
      resumed: 0,
      postponed: 0,
      failed: 0,
      deferred: false,
    };
    const outOfTime = () => (options.remainingTimeMs?.() ?? Number.POSITIVE_INFINITY) < this.budgetMarginMs;
    await Promise.all(
      openShardKeys(this.deps.shards).map((shard) => this.reconcileShard(shard, at, report, outOfTime)),
    );
    return report;
  }

  private async reconcileShard(
    shard: string,
    at: number,
    report: ReconcileReport,
    outOfTime: () => boolean,
  ): Promise<void> {
    const { deps } = this;
    let cursor: Record<string, unknown> | undefined;
    try {
      do {
        if (outOfTime()) {
          report.deferred = true;
          return;
        }
        const page = await deps.runs.queryOpen(shard, at, cursor);
        report.overdue += page.runs.length;
        for (const run of page.runs) {
          await this.reconcileOne(run, at, report).catch((error) => {
            report.failed++;
            deps.logger.error('could not reconcile an open run', {
              error,
              taskID: run.taskID,
              runID: run.runID,
            });
          });
        }
        cursor = page.cursor;
      } while (cursor);
    } catch (error) {
      report.failed++;
      deps.logger.error('could not read an open shard', { error, shard });
    }
  }

  private async reconcileOne(run: OpenRun, at: number, report: ReconcileReport): Promise<void> {
    const { deps } = this;
    if (run.status === 'started') {
      // The index does not carry heartbeats: read the claim itself.
      const state = await deps.runs.inspect(run.taskID, run.runID);
      if (state?.run.status !== 'started') return;
      const heldUntil = state.claimExpiresAt ?? 0;
      if (heldUntil >= at) {
        await deps.runs.postponeOpen(run.taskID, run.runID, run.openAt, heldUntil + deps.graceMs);
        report.postponed++;
        return;
      }
      await deps.queue.enqueueOne({ message: messageOf(run), delaySeconds: 0 });
      report.resumed++;
    } else if (run.status === 'scheduled') {
      await deps.queue.enqueueOne({ message: messageOf(run), delaySeconds: 0 });
      report.requeued++;
    } else {
      return;
    }
    // Sent: look again only if this delivery, too, leads nowhere.
    await deps.runs.postponeOpen(run.taskID, run.runID, run.openAt, at + deps.graceMs);
    deps.logger.info('reconciled an open run', {
      taskID: run.taskID,
      runID: run.runID,
      status: run.status,
      overdueMs: at - run.openAt,
    });
  }
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  return new Reconciler(deps);
}

const messageOf = (run: OpenRun): RunMessage => ({
  taskID: run.taskID,
  runID: run.runID,
  scheduledFor: run.scheduledFor,
  kind: run.kind,
  attempt: run.attempt,
  revision: run.revision,
  waits: 0,
});
