import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { TaskService, type TaskServiceProps } from '../../infra/task-service';
import type { ResourceRole } from '../../lib/observability/aws-calls';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

/** One synthesized TaskService, read as IAM sees it: every intrinsic resolved to a concrete value. */
export interface SynthesizedService {
  name: string;
  service: TaskService;
  /** The construct's functions by name, with their roles' resolved identity policies. */
  roles: Map<string, { roleArn: string; policies: PolicyDocument[] }>;
  /** The concrete ARN each recorded resource role stands for in this template. */
  arnOf(role: Exclude<ResourceRole, 'target'>): string;
  /** Resource policies (queue policies, key policies) by resource ARN. */
  resourcePolicies: Map<string, PolicyDocument>;
  /** Each function's environment, every token replaced by the value CloudFormation would give it. */
  environments: Map<string, Record<string, string>>;
  /** Each function's ARN, as the resolved policies name it. */
  functionArns: Map<string, string>;
}

/**
 * Synthesizes `new TaskService(stack, 'Rota', props)` for the IAM contract
 * (test/contract) and the environment contract (test/infra), without bundling (the code does not
 * change what a role may do) and resolves Ref, Fn::GetAtt, Fn::Join and the pseudo
 * parameters to the concrete ARNs CloudFormation would produce, with the logical id as
 * each resource's name.
 */
export function synthesize(name: string, props: TaskServiceProps = {}): SynthesizedService {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Contract', { env: { account: ACCOUNT, region: REGION } });
  const service = new TaskService(stack, 'Rota', props);
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, CfnResource> };
  const resources = template.Resources;
  const resolve = resolver(resources);
  const idOf = (construct: IConstruct) =>
    stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

  const roles = new Map<string, { roleArn: string; policies: PolicyDocument[] }>();
  const environments = new Map<string, Record<string, string>>();
  const functionArns = new Map<string, string>();
  for (const [fnName, fn] of service.functions) {
    functionArns.set(fnName, arn(resources, idOf(fn)));
    const variables = (resources[idOf(fn)]?.Properties?.Environment as { Variables?: unknown } | undefined)
      ?.Variables;
    environments.set(fnName, resolve(variables ?? {}) as Record<string, string>);
    if (!fn.role) throw new Error(`${fnName} has no role`);
    const roleId = idOf(fn.role);
    const policies = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => JSON.stringify(r.Properties?.Roles).includes(JSON.stringify({ Ref: roleId })))
      .map((r) => resolve(r.Properties?.PolicyDocument) as PolicyDocument);
    roles.set(fnName, { roleArn: String(resolve({ 'Fn::GetAtt': [roleId, 'Arn'] })), policies });
  }

  const arns: Record<Exclude<ResourceRole, 'target'>, string | undefined> = {
    table: arn(resources, idOf(service.table)),
    runsQueue: arn(resources, idOf(service.runsQueue)),
    deadLetterQueue: arn(resources, idOf(service.deadLetterQueue)),
    planningQueue: arn(resources, idOf(service.planningQueue)),
    secretsKey: String(resolve(stack.resolve(service.secretsKey.keyArn))),
    eventBus: String(resolve(stack.resolve(service.eventBus.eventBusArn))),
    operatorSecret: service.operatorTokenSecret
      ? String(resolve(stack.resolve(service.operatorTokenSecret.secretArn)))
      : undefined,
  };

  const resourcePolicies = new Map<string, PolicyDocument>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::SQS::QueuePolicy') {
      const document = resolve(r.Properties?.PolicyDocument) as PolicyDocument;
      for (const queue of (r.Properties?.Queues as unknown[]) ?? []) {
        const queueId = (queue as { Ref: string }).Ref;
        resourcePolicies.set(arn(resources, queueId), document);
      }
    }
    if (r.Type === 'AWS::KMS::Key') {
      resourcePolicies.set(arn(resources, id), resolve(r.Properties?.KeyPolicy) as PolicyDocument);
    }
  }

  return {
    name,
    service,
    roles,
    resourcePolicies,
    environments,
    functionArns,
    arnOf(role) {
      const value = arns[role];
      if (!value) throw new Error(`the ${name} stack has no ${role}`);
      return value;
    },
  };
}

/** What `Fn::GetAtt [id, Arn]` gives for each resource type Rota's roles name. */
function arn(resources: Record<string, CfnResource>, id: string): string {
  const type = resources[id]?.Type;
  switch (type) {
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}:*`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
    case 'AWS::Events::EventBus':
      return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${String(resources[id]?.Properties?.Name ?? id)}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${ACCOUNT}:role/${id}`;
    default:
      throw new Error(`no ARN rule for ${id} (${type})`);
  }
}

function resolver(resources: Record<string, CfnResource>) {
  const pseudo: Record<string, string> = {
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const ref = (id: string): string => {
    const known = pseudo[id];
    if (known) return known;
    const type = resources[id]?.Type;
    if (type === 'AWS::SQS::Queue') return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`;
    if (type === 'AWS::SecretsManager::Secret') return arn(resources, id);
    if (type === 'AWS::Events::EventBus') return String(resources[id]?.Properties?.Name ?? id);
    if (type === undefined) throw new Error(`Ref to unknown resource ${id}`);
    return id;
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    if ('Ref' in object) return ref(String(object.Ref));
    if ('Fn::GetAtt' in object) {
      const [id, attribute] = object['Fn::GetAtt'] as [string, string];
      if (attribute === 'Arn') return arn(resources, id);
      if (attribute === 'QueueName') return id;
      if (attribute === 'StreamArn') return `${arn(resources, id)}/stream/2026-01-01T00:00:00.000`;
      if (attribute === 'Name' && resources[id]?.Type === 'AWS::Events::EventBus') return ref(id);
      throw new Error(`no rule for Fn::GetAtt ${id}.${attribute}`);
    }
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map((part) => String(resolve(part))).join(separator);
    }
    const intrinsic = Object.keys(object).find((key) => key.startsWith('Fn::'));
    if (intrinsic) throw new Error(`no rule for ${intrinsic}`);
    return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}
