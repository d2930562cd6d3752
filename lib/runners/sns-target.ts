// Loaded on the first run of an SNS target (lib/runners/aws-targets.ts), with the SNS client.
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type AwsScope, checkAwsTarget } from './aws-resources';
import type { TargetRunContext } from './http-target';
import type { SnsTarget } from './target';
import { targetMessage } from './target-message';

export async function publishToTopic(
  sns: SNSClient,
  scope: AwsScope,
  target: SnsTarget,
  ctx: TargetRunContext,
) {
  checkAwsTarget(target, scope);
  const out = await sns.send(
    new PublishCommand({
      TopicArn: target.topicArn,
      Message: targetMessage(target.payload, ctx),
      ...(target.subject ? { Subject: target.subject } : {}),
      // FIFO topics refuse a publish without a group; the target has no field for one, so a task is its own group.
      ...(target.topicArn.endsWith('.fifo')
        ? { MessageGroupId: ctx.run.taskID, MessageDeduplicationId: ctx.run.runID }
        : {}),
    }),
    { abortSignal: ctx.signal },
  );
  ctx.log(`SNS message ${out.MessageId ?? '(no id)'} published to ${target.topicArn}`);
}
