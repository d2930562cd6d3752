import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { runMessageSchema } from '../run/model';
import type { RunStore } from '../store/run-store';
import type { TaskStore } from '../store/task-store';
import { safeJson } from './sqs';

/**
 * Consumes the runs DLQ: a run whose message exhausted its deliveries is marked
 * failed with the reason, so no run stays `scheduled` or `started` forever.
 */
export function createDeadLetterHandler(deps: {
  runs: RunStore;
  tasks: TaskStore;
  logger: Logger;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  return async (record: SQSRecord) => {
    const parsed = runMessageSchema.safeParse(safeJson(record.body));
    if (!parsed.success) {
      deps.logger.error('dropping malformed dead-lettered message', { messageId: record.messageId });
      return;
    }
    const message = parsed.data;
    const at = new Date(now()).toISOString();
    const receives = record.attributes.ApproximateReceiveCount;
    const reason = `run failed: its queue message was dead-lettered after ${receives} delivery attempts`;
    const failed = await deps.runs.failUnfinished(
      message.taskID,
      message.runID,
      { kind: message.kind, scheduledFor: message.scheduledFor, attempt: message.attempt },
      at,
      reason,
    );
    if (failed) {
      await deps.tasks.recordCompletion(message.taskID, {
        scheduledFor: message.scheduledFor,
        finishedAt: at,
        status: 'failed',
        error: reason,
      });
    }
    deps.logger.warn('dead-lettered run', {
      runID: message.runID,
      taskID: message.taskID,
      markedFailed: failed,
    });
  };
}
