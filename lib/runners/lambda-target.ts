// Loaded on the first run of a Lambda target (lib/runners/aws-targets.ts), with the Lambda client.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { type AwsScope, checkAwsTarget } from './aws-resources';
import type { TargetRunContext } from './http-target';
import type { LambdaTarget } from './target';
import { targetMessage } from './target-message';

/** How much of a failed function's answer goes into the run's error. */
const FUNCTION_ERROR_BYTES = 1024;

export async function invokeFunction(
  lambda: LambdaClient,
  scope: AwsScope,
  target: LambdaTarget,
  ctx: TargetRunContext,
) {
  checkAwsTarget(target, scope);
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: target.functionName,
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(targetMessage(target.payload, ctx)),
    }),
    { abortSignal: ctx.signal },
  );
  ctx.log(`Lambda ${target.functionName} invoked: status ${out.StatusCode ?? '(none)'}`);
  // A function that throws still answers 200; only FunctionError tells the run failed.
  if (out.FunctionError) {
    const payload = out.Payload
      ? Buffer.from(out.Payload).subarray(0, FUNCTION_ERROR_BYTES).toString('utf8')
      : '';
    throw new Error(`function error: ${payload || out.FunctionError}`);
  }
}
