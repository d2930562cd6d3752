import type { TargetPolicy } from '../../net/address-policy';
import type { AwsTargetRunners } from '../../runners/aws-targets';
import { runHttpTarget } from '../../runners/http-target';
import type { Runner } from '../system';
import type { TaskMetadata } from './api-schemas';

/** The executor's deadline (the run's AbortSignal) ends a call; this only bounds one that ignores it. */
const TARGET_CALL_CEILING_MS = 15 * 60_000;

/** Runs a user task: one call to its target. */
export function createTaskRunner(deps: {
  policy: TargetPolicy;
  aws: AwsTargetRunners;
}): Runner<TaskMetadata> {
  return async ({ task, run, signal, log }) => {
    const ctx = { run, signal, log, timeoutMs: TARGET_CALL_CEILING_MS };
    const target = task.metadata.target;
    switch (target.kind) {
      case 'http':
        return runHttpTarget(target, ctx, deps.policy);
      case 'sqs':
        return deps.aws.sqs(target, ctx);
      case 'sns':
        return deps.aws.sns(target, ctx);
      case 'eventbridge':
        return deps.aws.eventbridge(target, ctx);
      case 'lambda':
        return deps.aws.lambda(target, ctx);
    }
  };
}
