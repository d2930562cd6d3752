import { openHeaders, type SecretBox, scrubber } from '../../auth/secrets';
import type { TargetPolicy } from '../../net/address-policy';
import type { AwsTargetRunners } from '../../runners/aws-targets';
import { type DeploymentInflux, runFluxTarget } from '../../runners/flux-target';
import { runHttpTarget, type TargetRunContext } from '../../runners/http-target';
import type { Runner } from '../system';
import type { TaskMetadata } from './api-schemas';

/** The executor's deadline (the run's AbortSignal) ends a call; this only bounds one that ignores it. */
const TARGET_CALL_CEILING_MS = 15 * 60_000;

/** Runs a user task: one call to its target, or its Flux script on an InfluxDB. */
export function createTaskRunner(deps: {
  policy: TargetPolicy;
  aws: AwsTargetRunners;
  /** Opens sealed credential headers. @default the box the environment configures, built on first use */
  secrets: SecretBox;
  /** The InfluxDB for Flux tasks that name none; absent when the operator configured none. */
  influx?: DeploymentInflux | undefined;
}): Runner<TaskMetadata> {
  return async ({ task, run, signal, log }) => {
    const ctx = { run, signal, log, timeoutMs: TARGET_CALL_CEILING_MS };
    const target = task.metadata.target;
    switch (target.kind) {
      case 'http':
        return withOpenedHeaders(target, ctx, deps.secrets, (opened, scrubbed) =>
          runHttpTarget(opened, scrubbed, deps.policy),
        );
      case 'flux':
        return withOpenedHeaders(target, ctx, deps.secrets, (opened, scrubbed) =>
          runFluxTarget(opened, task.metadata.flux, scrubbed, {
            policy: deps.policy,
            deployment: deps.influx,
          }),
        );
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

/**
 * Calls `call` with the target's sealed headers opened. A target may echo its request
 * back, so its answer, and any error, reaches the run log only scrubbed of them.
 */
async function withOpenedHeaders<T extends { headers?: Record<string, string> | undefined }>(
  target: T,
  ctx: TargetRunContext,
  secrets: SecretBox,
  call: (opened: T, ctx: TargetRunContext) => Promise<void>,
): Promise<void> {
  if (!target.headers) return call(target, ctx);
  const opened = await openHeaders(target.headers, secrets);
  const scrub = scrubber(opened.secrets);
  try {
    return await call(
      { ...target, headers: opened.headers },
      { ...ctx, log: (line) => ctx.log(scrub(line)) },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const clean = scrub(message);
    throw clean === message ? error : new Error(clean);
  }
}
