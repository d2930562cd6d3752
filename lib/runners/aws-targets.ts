import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type AwsScope, awsScope, checkAwsTarget, sqsQueue } from './aws-resources';
import type { TargetRunContext } from './http-target';
import type { EventBridgeTarget, LambdaTarget, SnsTarget, SqsTarget, TargetMessage } from './target';

export interface AwsTargetClients {
  sqs: SQSClient;
  sns: SNSClient;
  eventBridge: EventBridgeClient;
  lambda: LambdaClient;
}

export interface AwsTargetRunners {
  sqs(target: SqsTarget, ctx: TargetRunContext): Promise<void>;
  sns(target: SnsTarget, ctx: TargetRunContext): Promise<void>;
  eventbridge(target: EventBridgeTarget, ctx: TargetRunContext): Promise<void>;
  lambda(target: LambdaTarget, ctx: TargetRunContext): Promise<void>;
}

/** How much of a failed function's answer goes into the run's error. */
const FUNCTION_ERROR_BYTES = 1024;

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

async function publishToTopic(sns: SNSClient, scope: AwsScope, target: SnsTarget, ctx: TargetRunContext) {
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

async function putOnBus(
  eventBridge: EventBridgeClient,
  scope: AwsScope,
  target: EventBridgeTarget,
  ctx: TargetRunContext,
) {
  checkAwsTarget(target, scope);
  const out = await eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: target.eventBusName,
          Source: target.source,
          DetailType: target.detailType,
          Detail: targetMessage(target.payload, ctx),
        },
      ],
    }),
    { abortSignal: ctx.signal },
  );
  const entry = out.Entries?.[0];
  // PutEvents answers 200 even when it rejects an entry; the rejection is only in the entry.
  if ((out.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode) {
    const detail = [entry?.ErrorCode ?? 'unknown error', entry?.ErrorMessage].filter(Boolean).join(': ');
    throw new Error(`EventBridge rejected the event: ${detail}`);
  }
  ctx.log(`EventBridge event ${entry?.EventId ?? '(no id)'} put on bus ${target.eventBusName}`);
}

async function invokeFunction(
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
    sns: (target, ctx) => publishToTopic(clients.sns, scope, target, ctx),
    eventbridge: (target, ctx) => putOnBus(clients.eventBridge, scope, target, ctx),
    lambda: (target, ctx) => invokeFunction(clients.lambda, scope, target, ctx),
  };
}

function targetMessage(payload: unknown, ctx: TargetRunContext): string {
  const message: TargetMessage = {
    taskID: ctx.run.taskID,
    runID: ctx.run.runID,
    scheduledFor: ctx.run.scheduledFor,
    ...(payload === undefined ? {} : { payload }),
  };
  return JSON.stringify(message);
}
