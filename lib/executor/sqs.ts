import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSRecord } from 'aws-lambda';
import { runMessageSchema } from '../run/model';
import type { Executor, Outcome } from './executor';

/**
 * Outcomes that end a run, worth a line at INFO. A dropped message (a replaced schedule,
 * an inactive task) is a detail: the instant may still run from its current message.
 */
const ENDED: ReadonlySet<Outcome> = new Set(['success', 'failed', 'canceled']);

/**
 * One SQS record through the executor. Expected outcomes (duplicate, dropped,
 * waiting, failed run) acknowledge the message; only infrastructure errors throw,
 * which reports the record as a batch item failure so SQS delivers it again.
 */
export async function handleRunRecord(
  executor: Executor,
  record: SQSRecord,
  context: Context,
  logger: Logger,
) {
  const parsed = runMessageSchema.safeParse(safeJson(record.body));
  if (!parsed.success) {
    // A malformed message will never parse; retrying it would only feed the DLQ.
    logger.error('dropping malformed run message', { messageId: record.messageId });
    return;
  }
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? 1);
  const result = await executor
    .execute(parsed.data, { remainingTimeMs: () => context.getRemainingTimeInMillis(), receiveCount })
    .catch((error: unknown) => {
      // Thrown on: SQS hands the message out again after its visibility timeout.
      logger.error('run message failed; it will be delivered again', {
        error,
        runID: parsed.data.runID,
        taskID: parsed.data.taskID,
        receiveCount,
      });
      throw error;
    });
  const fields = {
    runID: parsed.data.runID,
    taskID: parsed.data.taskID,
    outcome: result.outcome,
    reason: result.reason,
    lagMs: result.lagMs,
  };
  // One line per run that ended here; waiting, deferred, dropped and duplicate deliveries are details.
  if (ENDED.has(result.outcome)) {
    const run = result.run;
    const durationMs =
      run?.startedAt && run.finishedAt ? Date.parse(run.finishedAt) - Date.parse(run.startedAt) : undefined;
    logger.info(`run ${result.outcome}`, { ...fields, durationMs, error: run?.error });
  } else logger.debug('run message handled', fields);
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
