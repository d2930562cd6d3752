import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource, type SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface RotaQueueProps {
  readonly visibilityTimeout: Duration;
  /** @default - SQS's default (4 days) */
  readonly retentionPeriod?: Duration;
  /** Where messages go after `maxReceiveCount` failed deliveries. @default - none */
  readonly deadLetterQueue?: sqs.DeadLetterQueue;
  /** @default - SQS-managed SSE */
  readonly encryptionKey?: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * An SQS queue as Rota uses one (the runs queue, its dead-letter queue): TLS-only,
 * encrypted, and granted by intent: `grantEnqueue` for functions that send runs,
 * `addConsumer` for the one function an event source feeds.
 */
export class RotaQueue extends Construct {
  readonly queue: sqs.Queue;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: RotaQueueProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    // `Default`: the queue keeps the logical ID it had before this construct existed, so a
    // deployed stack keeps its queue, and the messages in it, across the upgrade.
    this.queue = new sqs.Queue(this, 'Default', {
      ...(props.encryptionKey
        ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
        : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      ...(props.retentionPeriod ? { retentionPeriod: props.retentionPeriod } : {}),
      visibilityTimeout: props.visibilityTimeout,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      removalPolicy: props.removalPolicy,
    });
  }

  /** SendMessage also authorizes SendMessageBatch; nothing else is needed to enqueue. */
  grantEnqueue(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    if (this.encryptionKey) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [this.encryptionKey.keyArn],
        }),
      );
    }
  }

  /** Feeds `fn` from this queue (the event source grants what its poller needs). */
  addConsumer(fn: lambda.Function, props: SqsEventSourceProps): void {
    fn.addEventSource(new SqsEventSource(this.queue, props));
  }
}

/**
 * Lambda's guidance for an SQS event source: visibility timeout at least six times the
 * function timeout plus the batching window. The slack covers Lambda retrying a
 * throttled invocation while the batch stays invisible, so a run is not redelivered while
 * its first delivery is still running. A crashed executor's message returns after this
 * delay; its lease expires long before that.
 */
export function visibilityFor(functionTimeout: Duration, batchingWindow: Duration): Duration {
  return Duration.seconds(6 * functionTimeout.toSeconds() + batchingWindow.toSeconds());
}
