import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp, type PlatformStack } from './embed-example';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let stack: PlatformStack;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  ({ stack } = createPlatformApp());
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

const idOf = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);
const keyArn = () => ({ 'Fn::GetAtt': [idOf(stack.key), 'Arn'] });
const statementsOf = (roleId: string): Statement[] =>
  Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const executorStatements = () => {
  const role = stack.tasks.executor.role;
  if (!role) throw new Error('executor has no role');
  return statementsOf(idOf(role));
};

describe('embedding TaskService in another app', () => {
  it('synthesizes next to the host stack’s own resources', () => {
    // Seven API functions (labels since ADR 0020) and seven workers (the planning worker with
    // the fan-out, ADR 0014; event-publisher and run-requests, ADR 0021); `iam` mode deploys
    // no token authorizer.
    template.resourceCountIs('AWS::Lambda::Function', 14);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    // The host's queue, Rota's runs queue and its dead letters, and the planning queue and its dead letters.
    template.resourceCountIs('AWS::SQS::Queue', 5);
    expect(stack.tasks.functions.size).toBe(14);
    // The host's key seals target secrets too: no second key.
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(stack.tasks.secretsKey).toBe(stack.key);
  });

  it('encrypts the table and every Rota queue with the host’s key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn() },
    });
    for (const queue of [
      stack.tasks.runsQueue,
      stack.tasks.deadLetterQueue,
      stack.tasks.planningQueue,
      stack.tasks.planningDeadLetterQueue,
    ]) {
      expect(resources[idOf(queue)]?.Properties.KmsMasterKeyId).toEqual(keyArn());
    }
  });

  it('grants explicit key actions, never a wildcard', () => {
    const kmsActions = executorStatements()
      .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(keyArn()))
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect([...new Set(kmsActions)].sort()).toEqual([
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
  });

  it('lets the executor reach exactly the listed targets', () => {
    const statements = executorStatements();
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [idOf(stack.reports), 'Arn'] },
        }),
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          Resource: expect.objectContaining({ 'Fn::Join': expect.anything() }),
        }),
      ]),
    );
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).not.toContain('sns:Publish');
    expect(actions).not.toContain('events:PutEvents');
  });

  it('applies the host’s settings', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: idOf(stack.tasks.executor) },
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    // 6 × the executor timeout + the batching window (0 s by default, docs/decisions/0026).
    expect(resources[idOf(stack.tasks.runsQueue)]?.Properties.VisibilityTimeout).toBe(6 * 600);
    expect(resources[idOf(stack.tasks.executor)]?.Properties).toMatchObject({
      Timeout: 600,
      Environment: {
        Variables: {
          ROTA_DUE_SHARDS: '16',
          ROTA_RUN_RETENTION_DAYS: '30',
          ROTA_ALLOWED_TARGET_HOSTS: 'hooks.internal.example.com,billing.internal.example.com',
        },
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://console.example.com'] }),
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('notifies the on-call topic from every alarm', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: idOf(stack.onCall) }],
    });
  });

  it('lets the operator role invoke the API', () => {
    const operator = statementsOf(idOf(stack.operator));
    expect(operator).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'execute-api:Invoke' })]);
    expect(JSON.stringify(operator[0]?.Resource)).toContain(idOf(stack.tasks.api));
  });
});
