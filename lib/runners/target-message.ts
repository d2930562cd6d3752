import type { TargetRunContext } from './http-target';
import type { TargetMessage } from './target';

/** The body every AWS target receives: the run's identity and the task's payload. */
export function targetMessage(payload: unknown, ctx: TargetRunContext): string {
  const message: TargetMessage = {
    taskID: ctx.run.taskID,
    runID: ctx.run.runID,
    scheduledFor: ctx.run.scheduledFor,
    ...(payload === undefined ? {} : { payload }),
  };
  return JSON.stringify(message);
}
