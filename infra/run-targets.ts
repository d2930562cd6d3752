import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { RotaFunction } from './rota-function';
import type { TaskServiceProps } from './task-service-props';

/** The executor reaches exactly the AWS targets the operator listed, and nothing when none are. */
export function grantRunTargets(
  scope: Construct,
  executor: RotaFunction,
  props: TaskServiceProps,
  rotaFunctions: readonly RotaFunction[],
): void {
  const grants: [string, readonly string[] | undefined][] = [
    ['lambda:InvokeFunction', props.targetLambdaArns],
    ['sqs:SendMessage', props.targetQueueArns],
    ['sns:Publish', props.targetTopicArns],
    ['events:PutEvents', props.targetEventBusArns],
  ];
  for (const [action, arns] of grants) {
    if (arns && arns.length > 0) {
      executor.addToRolePolicy(new iam.PolicyStatement({ actions: [action], resources: [...arns] }));
    }
  }
  if (props.targetLambdaArns && props.targetLambdaArns.length > 0) {
    denyInvoking(scope, executor, rotaFunctions);
  }
}

/**
 * An operator's wildcard in `targetLambdaArns` must not let a task invoke Rota's own
 * functions: a crafted payload to the dead-letter handler, say, would fail other orgs'
 * runs. An explicit Deny beats any Allow. It is a policy of its own because the
 * executor's default policy naming the executor's own ARN would be a dependency cycle.
 */
function denyInvoking(
  scope: Construct,
  executor: RotaFunction,
  rotaFunctions: readonly RotaFunction[],
): void {
  const arns = rotaFunctions.map((fn) => fn.functionArn);
  const policy = new iam.Policy(scope, 'ExecutorDeniesRotaFunctions', {
    statements: [
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['lambda:InvokeFunction'],
        resources: arns.flatMap((arn) => [arn, `${arn}:*`]),
      }),
    ],
  });
  if (executor.role) policy.attachToRole(executor.role);
}
