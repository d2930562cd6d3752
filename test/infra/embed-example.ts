import { App, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TaskService } from '../../infra';

/**
 * An example of embedding Rota in another CDK app: a platform stack that already owns
 * a KMS key, an on-call topic and a queue of its own, and lets an operator role call
 * the task API. The infra tests compile and synthesize it.
 */
export class PlatformStack extends Stack {
  readonly tasks: TaskService;
  readonly key: kms.Key;
  readonly onCall: sns.Topic;
  readonly reports: sqs.Queue;
  readonly operator: iam.Role;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.key = new kms.Key(this, 'DataKey', { enableKeyRotation: true, description: 'platform data' });
    // CloudWatch publishes alarms to the encrypted topic with this key.
    this.key.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey',
    );
    this.onCall = new sns.Topic(this, 'OnCall', { masterKey: this.key, enforceSSL: true });
    this.reports = new sqs.Queue(this, 'Reports', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.tasks = new TaskService(this, 'Tasks', {
      // Service-to-service: the platform's own roles sign their calls and act as the operator.
      authMode: 'iam',
      encryptionKey: this.key,
      alarmTopic: this.onCall,
      executorMaxConcurrency: 20,
      executorTimeout: Duration.minutes(10),
      dueShards: 16,
      runRetention: Duration.days(30),
      allowedTargetHosts: ['hooks.internal.example.com', 'billing.internal.example.com'],
      targetQueueArns: [this.reports.queueArn],
      targetLambdaArns: [
        `arn:${this.partition}:lambda:${this.region}:${this.account}:function:report-builder`,
      ],
      apiRateLimit: 20,
      apiBurstLimit: 40,
      corsAllowOrigins: ['https://console.example.com'],
      logRetention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.operator = new iam.Role(this, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    this.tasks.grantInvokeApi(this.operator);
  }
}

export function createPlatformApp(): { app: App; stack: PlatformStack } {
  const app = new App();
  const stack = new PlatformStack(app, 'Platform');
  return { app, stack };
}
