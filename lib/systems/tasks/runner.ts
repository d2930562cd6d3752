import { openHeaders, type SecretBox, scrubber } from '../../auth/secrets';
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
  /** Opens sealed credential headers. @default the box the environment configures, built on first use */
  secrets: SecretBox;
}): Runner<TaskMetadata> {
  const secrets = deps.secrets;
  return async ({ task, run, signal, log }) => {
    const ctx = { run, signal, log, timeoutMs: TARGET_CALL_CEILING_MS };
    const target = task.metadata.target;
    switch (target.kind) {
      case 'http': {
        if (!target.headers) return runHttpTarget(target, ctx, deps.policy);
        const opened = await openHeaders(target.headers, secrets);
        // A target may echo its request back; its answer reaches the run log only scrubbed.
        const scrub = scrubber(opened.secrets);
        try {
          return await runHttpTarget(
            { ...target, headers: opened.headers },
            { ...ctx, log: (line) => log(scrub(line)) },
            deps.policy,
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const clean = scrub(message);
          throw clean === message ? error : new Error(clean);
        }
      }
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
