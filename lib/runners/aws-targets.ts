import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type AwsScope, awsScope, sqsQueue } from './aws-resources';
import type { TargetRunContext } from './http-target';
import type { EventBridgeTarget, LambdaTarget, SnsTarget, SqsTarget } from './target';
import { targetMessage } from './target-message';

/**
 * The clients the runners send with. SQS's is the runs queue's, always loaded; the others
 * are built on first use, and each kind's sender module (`sns-target.ts`, …) is loaded
 * then too, so a cold start carries neither (ADR 0017).
 */
export interface AwsTargetClients {
  sqs: SQSClient;
  sns: () => Promise<SNSClient>;
  eventBridge: () => Promise<EventBridgeClient>;
  lambda: () => Promise<LambdaClient>;
}

export interface AwsTargetRunners {
  sqs(target: SqsTarget, ctx: TargetRunContext): Promise<void>;
  sns(target: SnsTarget, ctx: TargetRunContext): Promise<void>;
  eventbridge(target: EventBridgeTarget, ctx: TargetRunContext): Promise<void>;
  lambda(target: LambdaTarget, ctx: TargetRunContext): Promise<void>;
}

async function sendToQueue(sqs: SQSClient, scope: AwsScope, target: SqsTarget, ctx: TargetRunContext) {
  const queue = sqsQueue(target.queueUrl, scope);
  const out = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queue.url,
      MessageBody: targetMessage(target.payload, ctx),
      // A retried attempt of the same run is the same message, so FIFO deduplication drops the copy.
      ...(target.messageGroupId
        ? { MessageGroupId: target.messageGroupId, MessageDeduplicationId: ctx.run.runID }
        : {}),
    }),
    { abortSignal: ctx.signal },
  );
  ctx.log(`SQS message ${out.MessageId ?? '(no id)'} sent to ${queue.url}`);
}

/**
 * Runners for the AWS targets. Each sends one TargetMessage and resolves when
 * AWS accepted it; a send is abandoned when the run's signal trips. Every target is
 * checked against the clients' region again before the send, so one stored before
 * the create-time check existed is refused too. The clients' endpoints come from
 * configuration; the SQS client must not follow queue URLs (`useQueueUrlAsEndpoint:
 * false`), and the runner sends only a queue URL it rebuilt from region, account and
 * name.
 */
export function createAwsTargetRunners(
  clients: AwsTargetClients,
  { region, ownQueueUrls = [] }: { region: string; ownQueueUrls?: readonly string[] | undefined },
): AwsTargetRunners {
  const scope = awsScope(region, ownQueueUrls);
  return {
    sqs: (target, ctx) => sendToQueue(clients.sqs, scope, target, ctx),
    sns: async (target, ctx) => {
      const [sender, sns] = await Promise.all([import('./sns-target'), clients.sns()]);
      return sender.publishToTopic(sns, scope, target, ctx);
    },
    eventbridge: async (target, ctx) => {
      const [sender, eventBridge] = await Promise.all([
        import('./eventbridge-target'),
        clients.eventBridge(),
      ]);
      return sender.putOnBus(eventBridge, scope, target, ctx);
    },
    lambda: async (target, ctx) => {
      const [sender, lambda] = await Promise.all([import('./lambda-target'), clients.lambda()]);
      return sender.invokeFunction(lambda, scope, target, ctx);
    },
  };
}
