import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, functionEntry, ROTA_BUNDLE, ROTA_ROOT, ROTA_RUNTIME } from '../../infra/bundling';
import { API_FUNCTIONS, ROTA_FUNCTIONS, TaskService, type TaskServiceProps } from '../../infra/task-service';
import { tableDefinition } from '../../lib/store/keys';
import { openApiDocument } from '../../lib/systems/api-docs';
import { SYSTEMS } from '../../lib/systems/registry';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}
interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const SERVICES = [
  'tasks-api',
  'checks-api',
  'notification-rules-api',
  'notification-endpoints-api',
  'authorizations-api',
  'labels-api',
  'meta-api',
  'scheduler',
  'executor',
  'reconciler',
  'dead-letter',
  'planning-worker',
  'event-publisher',
  'run-requests',
  'authorizer',
] as const;
const API_SERVICES = SERVICES.filter((s) => s.endsWith('-api'));
/** API functions that store credentials, sealed with the secrets key (rules hold none: their endpoint does). */
const SEALING = ['tasks-api', 'checks-api', 'notification-endpoints-api'] as const;
type Service = (typeof SERVICES)[number];

// Bundling five functions is the slow part of a synth: one stack, shared by every test.
let app: App;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  app = new App();
  const stack = new Stack(app, 'Test');
  new TaskService(stack, 'Rota');
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const asList = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

function fn(service: Service): [string, Resource] {
  const found = ofType('AWS::Lambda::Function').filter(
    ([, r]) =>
      (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .POWERTOOLS_SERVICE_NAME === `rota-${service}`,
  );
  expect(found, `function rota-${service}`).toHaveLength(1);
  return found[0] as [string, Resource];
}
const fnId = (service: Service) => fn(service)[0];
const envOf = (service: Service) =>
  (fn(service)[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;

function statementsOf(service: Service): Statement[] {
  const role = fn(service)[1].Properties.Role as { 'Fn::GetAtt': [string, string] };
  const roleId = role['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) =>
      (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
    )
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (service: Service, prefix?: string) =>
  [...new Set(statementsOf(service).flatMap((s) => asList(s.Action)))]
    .filter((a) => prefix === undefined || a.startsWith(`${prefix}:`))
    .sort();
const resourcesFor = (service: Service, action: string) =>
  statementsOf(service)
    .filter((s) => asList(s.Action).includes(action))
    .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));

const tableId = () => (ofType('AWS::DynamoDB::Table')[0] as [string, Resource])[0];
const secretsKeyId = () => {
  const keys = ofType('AWS::KMS::Key');
  expect(keys).toHaveLength(1);
  return (keys[0] as [string, Resource])[0];
};
const queueId = (name: 'RunsQueue' | 'DeadLetterQueue' | 'PlanningQueue' | 'PlanningDeadLetterQueue') => {
  const found = ofType('AWS::SQS::Queue').filter(([id]) => id.startsWith(`Rota${name}`));
  expect(found).toHaveLength(1);
  return (found[0] as [string, Resource])[0];
};
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const indexArn = (index: string) => ({ 'Fn::Join': ['', [arnOf(tableId()), `/index/${index}`]] });

describe('table', () => {
  it('declares exactly the keys and indexes of lib/store/keys.ts', () => {
    const expected = tableDefinition('x');
    const [, table] = ofType('AWS::DynamoDB::Table')[0] as [string, Resource];
    const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) =>
      String(a.AttributeName).localeCompare(String(b.AttributeName));
    const byIndex = (a: { IndexName?: string }, b: { IndexName?: string }) =>
      String(a.IndexName).localeCompare(String(b.IndexName));

    expect(table.Properties.KeySchema).toEqual(expected.KeySchema);
    expect([...(table.Properties.AttributeDefinitions as { AttributeName: string }[])].sort(byName)).toEqual(
      [...(expected.AttributeDefinitions ?? [])].sort(byName),
    );
    expect([...(table.Properties.GlobalSecondaryIndexes as { IndexName: string }[])].sort(byIndex)).toEqual(
      [...(expected.GlobalSecondaryIndexes ?? [])].sort(byIndex),
    );
    expect(table.Properties.BillingMode).toBe(expected.BillingMode);
  });

  it('is on-demand, point-in-time recoverable, TTL-expired, encrypted and retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
  });
});

describe('queues', () => {
  it('redrives runs to the DLQ after five deliveries, invisible for 6 × executor timeout + batching window', () => {
    template.hasResource('AWS::SQS::Queue', {
      DeletionPolicy: 'Retain',
      Properties: {
        RedrivePolicy: { deadLetterTargetArn: arnOf(queueId('DeadLetterQueue')), maxReceiveCount: 5 },
        SqsManagedSseEnabled: true,
        // The default batching window is 0 s.
        VisibilityTimeout: 6 * 300,
      },
    });
  });

  it('keeps dead letters 14 days, encrypted, invisible for 6 × the dead-letter function timeout', () => {
    expect(resources[queueId('DeadLetterQueue')]?.Properties).toEqual({
      MessageRetentionPeriod: Duration.days(14).toSeconds(),
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * 30,
    });
  });

  it('dead-letters planning jobs after three receives, visible again after the 30 s worker timeout, kept an hour', () => {
    expect(resources[queueId('PlanningQueue')]?.Properties).toEqual({
      MessageRetentionPeriod: 3600,
      RedrivePolicy: { deadLetterTargetArn: arnOf(queueId('PlanningDeadLetterQueue')), maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 30,
    });
    expect(resources[queueId('PlanningDeadLetterQueue')]?.Properties).toMatchObject({
      MessageRetentionPeriod: Duration.days(14).toSeconds(),
      SqsManagedSseEnabled: true,
    });
  });

  it('refuses requests without TLS on every queue', () => {
    for (const name of [
      'RunsQueue',
      'DeadLetterQueue',
      'PlanningQueue',
      'PlanningDeadLetterQueue',
    ] as const) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId(name) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });
});

describe('event sources', () => {
  it('feeds the executor from the runs queue in partial batches, capped at the worker pool', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('executor') },
      EventSourceArn: arnOf(queueId('RunsQueue')),
      BatchSize: 10,
      // 0: invoked as soon as runs are visible (docs/decisions/0026).
      MaximumBatchingWindowInSeconds: 0,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 50 },
    });
  });

  it('feeds the dead-letter function from the DLQ in partial batches', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('dead-letter') },
      EventSourceArn: arnOf(queueId('DeadLetterQueue')),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // Runs queue, DLQ, the planning queue, and the table's stream (the events describe below).
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 4);
  });

  it('feeds the planning worker one job at a time, reporting failed ones, as many at once as there are shards', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('planning-worker') },
      EventSourceArn: arnOf(queueId('PlanningQueue')),
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 8 },
    });
  });

  it('ticks the scheduler every minute and drops stale ticks instead of retrying them', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: arnOf(fnId('scheduler')) })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('scheduler') },
      MaximumRetryAttempts: 0,
    });
  });

  it('runs the reconciler every minute on its own rule, without retrying stale passes', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: arnOf(fnId('reconciler')) })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('reconciler') },
      MaximumRetryAttempts: 0,
    });
    // The scheduler's and reconciler's ticks, and the run-requests rule on the bus.
    template.resourceCountIs('AWS::Events::Rule', 3);
  });
});

describe('HTTP API', () => {
  const routeTargets = () => {
    const integrations = Object.fromEntries(
      ofType('AWS::ApiGatewayV2::Integration').map(([id, r]) => [
        id,
        (r.Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
      ]),
    );
    return Object.fromEntries(
      ofType('AWS::ApiGatewayV2::Route').map(([, r]) => {
        const target = r.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
        return [
          r.Properties.RouteKey as string,
          { fn: integrations[target['Fn::Join'][1][1].Ref], auth: r.Properties.AuthorizationType },
        ];
      }),
    );
  };

  it('routes each system to its own function, behind the token authorizer except the console and the two public documents', () => {
    // GET /api/v2/events is local mode's stream; on AWS the meta-api answers it (behind the authorizer) naming the bus.
    const behindTokens = (base: string, service: Service) => ({
      [`ANY ${base}`]: { fn: fnId(service), auth: 'CUSTOM' },
      [`ANY ${base}/{proxy+}`]: { fn: fnId(service), auth: 'CUSTOM' },
    });
    expect(routeTargets()).toEqual({
      ...behindTokens('/api/v2/tasks', 'tasks-api'),
      ...behindTokens('/api/v2/checks', 'checks-api'),
      ...behindTokens('/api/v2/notificationRules', 'notification-rules-api'),
      ...behindTokens('/api/v2/notificationEndpoints', 'notification-endpoints-api'),
      ...behindTokens('/api/v2/authorizations', 'authorizations-api'),
      ...behindTokens('/api/v2/labels', 'labels-api'),
      'GET /': { fn: fnId('meta-api'), auth: 'NONE' },
      'GET /health': { fn: fnId('meta-api'), auth: 'NONE' },
      'GET /api/v2/openapi.json': { fn: fnId('meta-api'), auth: 'NONE' },
      'GET /api/v2/events': { fn: fnId('meta-api'), auth: 'CUSTOM' },
    });
    template.allResourcesProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
  });

  it('throttles the default stage and writes JSON access logs to a retained log group', () => {
    const stage = template.findResources('AWS::ApiGatewayV2::Stage');
    expect(Object.keys(stage)).toHaveLength(1);
    const props = (Object.values(stage)[0] as Resource).Properties;
    expect(props).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
    const logs = props.AccessLogSettings as {
      DestinationArn: { 'Fn::GetAtt': [string, string] };
      Format: string;
    };
    expect(JSON.parse(logs.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      caller: '$context.identity.userArn',
    });
    expect(resources[logs.DestinationArn['Fn::GetAtt'][0]]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      DeletionPolicy: 'Retain',
      Properties: { RetentionInDays: 30 },
    });
  });

  it('answers CORS preflight for SigV4 callers', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: ['*'],
        AllowMethods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
        AllowHeaders: Match.arrayWith([
          'authorization',
          'content-type',
          'if-match',
          'x-amz-date',
          'x-amz-security-token',
        ]),
        ExposeHeaders: ['etag', 'x-platform-error-code'],
        MaxAge: 3600,
      },
    });
  });
});

describe('functions', () => {
  it('share the defaults: ARM64, latest Node.js, active tracing, 512 MB, own log group', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(SERVICES.length);
    for (const service of SERVICES) {
      const [, f] = fn(service);
      expect(f.Properties).toMatchObject({
        Runtime: ROTA_RUNTIME.name,
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        TracingConfig: { Mode: 'Active' },
      });
      expect(ROTA_RUNTIME.name).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
      const logGroup = (f.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resources[logGroup]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 30 },
      });
    }
  });

  it('set timeouts by role: API under the 30 s integration limit, executor from the prop', () => {
    const timeout = (service: Service) => fn(service)[1].Properties.Timeout;
    for (const service of API_SERVICES) expect(timeout(service), service).toBe(29);
    expect(timeout('authorizer')).toBe(10);
    expect(timeout('scheduler')).toBe(60);
    expect(timeout('reconciler')).toBe(60);
    expect(timeout('executor')).toBe(300);
    expect(timeout('dead-letter')).toBe(30);
    expect(timeout('planning-worker')).toBe(30);
    expect(timeout('event-publisher')).toBe(30);
    expect(timeout('run-requests')).toBe(30);
  });

  it('get the Rota configuration, and the queue URL only where they enqueue', () => {
    for (const service of SERVICES) {
      expect(envOf(service)).toMatchObject({
        ROTA_TABLE_NAME: { Ref: tableId() },
        ROTA_DUE_SHARDS: '8',
        ROTA_RUN_RETENTION_DAYS: '7',
        ROTA_ALLOW_PRIVATE_TARGETS: 'false',
        ROTA_ALLOWED_TARGET_HOSTS: '',
        ROTA_MAX_TASKS_PER_ORG: '1000',
        ROTA_SCHEDULER_LOOKAHEAD_SECONDS: '900',
        POWERTOOLS_SERVICE_NAME: `rota-${service}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Rota',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      });
      const enqueues = [
        'tasks-api',
        'checks-api',
        'notification-rules-api',
        'scheduler',
        'executor',
        'reconciler',
        'planning-worker',
        'run-requests',
      ].includes(service);
      // Only the coordinator sends planning jobs; without planningWorkers it derives their number.
      expect(envOf(service).ROTA_PLANNING_QUEUE_URL, service).toEqual(
        service === 'scheduler' ? { Ref: queueId('PlanningQueue') } : undefined,
      );
      expect(envOf(service).ROTA_PLANNING_WORKERS, service).toBeUndefined();
      expect(envOf(service).ROTA_DUE_SHARDS_READ, service).toBeUndefined();
      expect(envOf(service).ROTA_RUNS_QUEUE_URL).toEqual(
        enqueues ? { Ref: queueId('RunsQueue') } : undefined,
      );
      expect(envOf(service).ROTA_AUTH_MODE, service).toBe(
        (API_SERVICES as readonly string[]).includes(service) ? 'token' : undefined,
      );
      const usesSecrets = [...SEALING, 'executor'].includes(service);
      expect(envOf(service).ROTA_SECRETS_KMS_KEY_ARN, service).toEqual(
        usesSecrets ? arnOf(secretsKeyId()) : undefined,
      );
    }
  });

  it('bundle every hand-written functions/*.ts entry, and the system APIs and executor from entries generated from the registry', () => {
    const onDisk = readdirSync(join(ROTA_ROOT, 'functions'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `functions/${f}`)
      .sort();
    const entries = new Map(ROTA_FUNCTIONS.map((f) => [f.name, f.entry()]));
    const generated = [...SYSTEMS.apis.map((api) => api.name), 'executor'];
    expect(
      [...entries]
        .filter(([name]) => !generated.includes(name))
        .map(([, e]) => e)
        .sort(),
    ).toEqual(onDisk);
    // One entry per system API and one for the executor, each its own file under dist/generated.
    const generatedEntries = generated.map((name) => entries.get(name) ?? '');
    expect(new Set(generatedEntries).size).toBe(generated.length);
    for (const entry of generatedEntries)
      expect(entry).toMatch(/^dist\/generated\/[a-z-]+-[0-9a-f]{16}\.ts$/);
  });

  it('deploy byte for byte the bundles scripts/bundle.ts builds, lazy chunks included', async () => {
    await Promise.all(
      ROTA_FUNCTIONS.map(async ({ name, entry }) => {
        const hash = (fn(name as Service)[1].Properties.Code as { S3Key: string }).S3Key.replace(
          /\.zip$/,
          '',
        );
        const asset = join(app.outdir, `asset.${hash}`);
        const dir = join(tmpdir(), 'rota-bundle-check', name);
        const built = await build({
          ...esbuildOptions(functionEntry(entry()), join(dir, 'index.mjs')),
          write: false,
        });
        const code = built.outputFiles.filter((file) => file.path.endsWith('.mjs'));
        expect(code.length, name).toBeGreaterThan(0);
        for (const file of code) {
          const deployed = readFileSync(join(asset, relative(dir, file.path)), 'utf8');
          expect(file.text, `${name}: ${relative(dir, file.path)}`).toBe(deployed);
        }
        const deployedChunks = existsSync(join(asset, 'chunks')) ? readdirSync(join(asset, 'chunks')) : [];
        expect(deployedChunks.filter((f) => f.endsWith('.mjs')).length, name).toBe(code.length - 1);
      }),
    );
  });

  it('ship the web console page and the OpenAPI document beside the meta-api bundle, and only there', () => {
    const assetFiles = (name: string) => {
      const hash = (fn(name as Service)[1].Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      return readdirSync(join(app.outdir, `asset.${hash}`)).sort();
    };
    // chunks/: what the entry loads on first use of a lazy path (the SDK's own lazy parts, the KMS box).
    expect(assetFiles('meta-api')).toEqual(['console.html', 'index.mjs', 'index.mjs.map', 'openapi.json']);
    expect(assetFiles('tasks-api')).toEqual(['chunks', 'index.mjs', 'index.mjs.map']);
    const hash = (fn('meta-api')[1].Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    const page = readFileSync(join(app.outdir, `asset.${hash}`, 'console.html'), 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain("default-src 'none'");
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    // The document of the registry the construct deployed, as the sources generate it.
    const document = readFileSync(join(app.outdir, `asset.${hash}`, 'openapi.json'), 'utf8');
    expect(JSON.parse(document)).toEqual(openApiDocument(SYSTEMS));
  });

  it('bundle as scripts/bundle.ts does: one ESM entry, index.mjs, and its lazy chunks under chunks/', () => {
    const options = esbuildOptions('in.ts', join('out', 'index.mjs'));
    expect(options).toMatchObject({
      target: ROTA_BUNDLE.target,
      format: 'esm',
      bundle: true,
      external: [],
      splitting: true,
      outdir: 'out',
      entryNames: 'index',
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
    });
    expect(options).not.toHaveProperty('outfile');
  });
});

describe('IAM', () => {
  it('grants each function exactly the actions its job needs', () => {
    const sqsConsume = [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ];
    type Want = {
      dynamodb: string[];
      sqs: string[];
      kms?: string[];
      secretsmanager?: string[];
      events?: string[];
    };
    const streamRead = ['DescribeStream', 'GetRecords', 'GetShardIterator', 'ListStreams'];
    const manageTasks = ['BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'];
    const seal = ['kms:GenerateDataKey'];
    const expected: Record<Service, Want> = {
      'tasks-api': { dynamodb: manageTasks, sqs: ['sqs:SendMessage'], kms: seal },
      'checks-api': { dynamodb: manageTasks, sqs: ['sqs:SendMessage'], kms: seal },
      'notification-rules-api': { dynamodb: manageTasks, sqs: ['sqs:SendMessage'] },
      // Endpoint items, and the rules list that tells whether an endpoint is in use.
      'notification-endpoints-api': {
        dynamodb: ['DeleteItem', 'GetItem', 'PutItem', 'Query'],
        sqs: [],
        kms: seal,
      },
      'authorizations-api': {
        dynamodb: ['DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'],
        sqs: [],
      },
      // UpdateItem: the labels' org directory, for the operator's every-org list.
      'labels-api': { dynamodb: ['DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'], sqs: [] },
      'meta-api': { dynamodb: [], sqs: [] },
      // DescribeTable: the due index's item count, which sizes the fan-out.
      scheduler: { dynamodb: ['DescribeTable', 'Query', 'UpdateItem'], sqs: ['sqs:SendMessage'] },
      'planning-worker': {
        dynamodb: ['Query', 'UpdateItem'],
        sqs: [...sqsConsume, 'sqs:SendMessage'].sort(),
      },
      executor: {
        dynamodb: ['DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'],
        sqs: [...sqsConsume, 'sqs:SendMessage'].sort(),
        kms: ['kms:Decrypt'],
      },
      reconciler: { dynamodb: ['GetItem', 'Query', 'UpdateItem'], sqs: ['sqs:SendMessage'] },
      // It reads the task and its runs since the completion checkpoint when it records a failure (ADR 0015).
      'dead-letter': { dynamodb: ['GetItem', 'Query', 'UpdateItem'], sqs: sqsConsume },
      'event-publisher': {
        dynamodb: ['GetItem', ...streamRead].sort(),
        sqs: [],
        events: ['events:PutEvents'],
      },
      'run-requests': { dynamodb: ['GetItem', 'PutItem'], sqs: ['sqs:SendMessage'] },
      authorizer: { dynamodb: ['GetItem'], sqs: [], secretsmanager: ['secretsmanager:GetSecretValue'] },
    };
    for (const service of SERVICES) {
      const want = expected[service];
      expect(actionsOf(service, 'dynamodb'), service).toEqual(want.dynamodb.map((a) => `dynamodb:${a}`));
      expect(actionsOf(service, 'sqs'), service).toEqual(want.sqs);
      expect(actionsOf(service, 'kms'), service).toEqual(want.kms ?? []);
      expect(actionsOf(service, 'secretsmanager'), service).toEqual(want.secretsmanager ?? []);
      expect(actionsOf(service, 'events'), service).toEqual(want.events ?? []);
      // Nothing beyond the table, the queues, the keys and secret it needs, its own log group and X-Ray.
      const services = new Set(actionsOf(service).map((a) => a.split(':')[0]));
      expect([...services].sort(), service).toEqual(
        [
          'logs',
          'xray',
          ...(want.dynamodb.length ? ['dynamodb'] : []),
          ...(want.sqs.length ? ['sqs'] : []),
          ...(want.kms?.length ? ['kms'] : []),
          ...(want.secretsmanager?.length ? ['secretsmanager'] : []),
          ...(want.events?.length ? ['events'] : []),
        ].sort(),
      );
    }
  });

  it('scopes queries to the one index each function reads', () => {
    expect(resourcesFor('scheduler', 'dynamodb:Query')).toEqual([indexArn('due')]);
    expect(resourcesFor('scheduler', 'dynamodb:UpdateItem')).toEqual([arnOf(tableId())]);
    expect(resourcesFor('tasks-api', 'dynamodb:Query')).toEqual(
      expect.arrayContaining([arnOf(tableId()), indexArn('byOrgType')]),
    );
    // The table appears in two statements (task partitions, label mappings), each confined to its prefixes.
    expect(new Set(resourcesFor('tasks-api', 'dynamodb:Query').map((r) => JSON.stringify(r))).size).toBe(2);
    // Runs and lease slots by Query on the table; the notification-rule runner reads an
    // org's check statuses through byOrgType (statuses.writtenSince).
    expect(resourcesFor('executor', 'dynamodb:Query')).toEqual(
      expect.arrayContaining([arnOf(tableId()), indexArn('byOrgType')]),
    );
    expect(resourcesFor('executor', 'dynamodb:Query')).toHaveLength(2);
    // Its label mappings by Query on the table, its endpoints and the org's labels through byOrgType.
    expect(resourcesFor('notification-endpoints-api', 'dynamodb:Query')).toEqual(
      expect.arrayContaining([arnOf(tableId()), indexArn('byOrgType')]),
    );
    expect(resourcesFor('notification-endpoints-api', 'dynamodb:Query')).toHaveLength(2);
    expect(resourcesFor('labels-api', 'dynamodb:Query')).toEqual([indexArn('byOrgType')]);
    // The reconciler reads the open index only, never the table or another index.
    expect(resourcesFor('reconciler', 'dynamodb:Query')).toEqual([indexArn('open')]);
    expect(resourcesFor('reconciler', 'dynamodb:UpdateItem')).toEqual([arnOf(tableId())]);
    for (const service of SERVICES.filter((s) => s !== 'reconciler')) {
      expect(resourcesFor(service, 'dynamodb:Query'), service).not.toContainEqual(indexArn('open'));
    }
  });

  it('confines every action on table items to the partitions its stores declare (dynamodb:LeadingKeys)', () => {
    const prefixesOf = (service: Service) =>
      Object.fromEntries(
        statementsOf(service)
          .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(arnOf(tableId())))
          // A table-level action touches no item: no partition key to confine it to.
          .filter((s) => JSON.stringify(s.Action) !== JSON.stringify('dynamodb:DescribeTable'))
          .map((s) => {
            const condition = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
            expect(condition, `${service} ${JSON.stringify(s.Action)}`).toBeDefined();
            return [[...asList(s.Action)].sort().join(','), condition];
          }),
      );
    const task = ['TASK#*'];
    // Every API whose resources carry labels: their mappings, and the labels they show.
    const labelled = {
      'dynamodb:DeleteItem,dynamodb:PutItem,dynamodb:Query': ['LABELMAP#*'],
      'dynamodb:GetItem': ['LABEL#*'],
    };
    expect(prefixesOf('scheduler')).toEqual({ 'dynamodb:UpdateItem': task });
    expect(prefixesOf('planning-worker')).toEqual({ 'dynamodb:UpdateItem': task });
    expect(resourcesFor('scheduler', 'dynamodb:DescribeTable')).toEqual([arnOf(tableId())]);
    expect(prefixesOf('dead-letter')).toEqual({
      'dynamodb:GetItem,dynamodb:Query,dynamodb:UpdateItem': task,
    });
    expect(prefixesOf('reconciler')).toEqual({ 'dynamodb:GetItem,dynamodb:UpdateItem': task });
    expect(prefixesOf('executor')).toEqual({
      'dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query,dynamodb:UpdateItem': task,
      'dynamodb:GetItem': ['ENDPOINT#*'],
    });
    expect(prefixesOf('tasks-api')).toEqual({
      'dynamodb:BatchWriteItem,dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query,dynamodb:UpdateItem':
        task,
      'dynamodb:UpdateItem': ['ORG#*'],
      // The org directory of its task type: registered on create, read by the operator's list.
      'dynamodb:GetItem,dynamodb:UpdateItem': ['ORGS#*'],
      ...labelled,
    });
    expect(prefixesOf('notification-endpoints-api')).toEqual({
      'dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem': ['ENDPOINT#*'],
      ...labelled,
    });
    // Labels, their name claims and their org directory; never a mapping, which only the
    // labelled resources' APIs write.
    expect(prefixesOf('labels-api')).toEqual({
      'dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem': ['LABEL#*', 'LABELNAME#*'],
      'dynamodb:GetItem,dynamodb:UpdateItem': ['ORGS#*'],
    });
    expect(prefixesOf('meta-api')).toEqual({});
  });

  it('sends only to the runs queue and consumes only its own queue', () => {
    for (const service of [
      'tasks-api',
      'executor',
      'reconciler',
      'planning-worker',
      'run-requests',
    ] as const) {
      expect(resourcesFor(service, 'sqs:SendMessage'), service).toEqual([arnOf(queueId('RunsQueue'))]);
    }
    // The coordinator also sends planning jobs, and nothing else reaches the planning queue.
    expect(resourcesFor('scheduler', 'sqs:SendMessage')).toEqual(
      expect.arrayContaining([arnOf(queueId('RunsQueue')), arnOf(queueId('PlanningQueue'))]),
    );
    expect(resourcesFor('scheduler', 'sqs:SendMessage')).toHaveLength(2);
    expect(resourcesFor('planning-worker', 'sqs:ReceiveMessage')).toEqual([arnOf(queueId('PlanningQueue'))]);
    expect(resourcesFor('executor', 'sqs:ReceiveMessage')).toEqual([arnOf(queueId('RunsQueue'))]);
    expect(resourcesFor('dead-letter', 'sqs:ReceiveMessage')).toEqual([arnOf(queueId('DeadLetterQueue'))]);
  });

  it('lets each function write only to its own log group', () => {
    for (const service of SERVICES) {
      const logGroup = (fn(service)[1].Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup
        .Ref;
      expect(resourcesFor(service, 'logs:PutLogEvents')).toEqual([arnOf(logGroup)]);
    }
  });

  it('gives the executor no target permissions when no targets are listed', () => {
    const actions = actionsOf('executor');
    for (const action of ['lambda:InvokeFunction', 'sns:Publish', 'events:PutEvents']) {
      expect(actions).not.toContain(action);
    }
  });

  it('has no wildcard action and no AWS managed policy anywhere', () => {
    const allows: Statement[] = [];
    for (const [, r] of Object.entries(resources)) {
      const documents: unknown[] = [];
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
        documents.push(r.Properties.PolicyDocument);
      if (r.Type === 'AWS::IAM::Role') {
        documents.push(
          ...((r.Properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map(
            (p) => p.PolicyDocument,
          ),
        );
        expect(r.Properties.ManagedPolicyArns).toBeUndefined();
      }
      if (
        r.Type.endsWith('Policy') &&
        r.Type !== 'AWS::IAM::Policy' &&
        r.Type !== 'AWS::IAM::ManagedPolicy'
      ) {
        documents.push(r.Properties.PolicyDocument);
      }
      for (const doc of documents) {
        allows.push(...(doc as { Statement: Statement[] }).Statement.filter((s) => s.Effect === 'Allow'));
      }
    }
    expect(allows.length).toBeGreaterThan(0);
    const wildcards = allows.flatMap((s) => asList(s.Action)).filter((a) => a.includes('*'));
    expect(wildcards).toEqual([]);
  });
});

describe('alarms', () => {
  const alarm = (metricName: string) => {
    const found = ofType('AWS::CloudWatch::Alarm').filter(([, r]) => r.Properties.MetricName === metricName);
    expect(found, metricName).toHaveLength(
      metricName === 'Errors' ? 4 : metricName === 'ApproximateNumberOfMessagesVisible' ? 2 : 1,
    );
    return found.map(([, r]) => r.Properties);
  };

  it('watch the depth of both DLQs, queue age, executor, scheduler, reconciler and planning worker errors, and p99 schedule lag', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 8);
    const depths = alarm('ApproximateNumberOfMessagesVisible');
    for (const [i, queue] of (['DeadLetterQueue', 'PlanningDeadLetterQueue'] as const).entries()) {
      expect(depths[i]).toMatchObject({
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(queue), 'QueueName'] } }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
      });
    }
    expect(alarm('ApproximateAgeOfOldestMessage')[0]).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId('RunsQueue'), 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 300,
    });
    const errors = alarm('Errors');
    expect(errors.map((a) => (a.Dimensions as { Value: { Ref: string } }[])[0]?.Value.Ref).sort()).toEqual(
      [fnId('executor'), fnId('scheduler'), fnId('reconciler'), fnId('planning-worker')].sort(),
    );
    for (const a of errors) {
      expect(a).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 0 });
    }
    expect(alarm('ScheduleLag')[0]).toMatchObject({
      Namespace: 'Rota',
      Dimensions: [{ Name: 'service', Value: 'rota-executor' }],
      ExtendedStatistic: 'p99',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 60_000,
    });
  });

  it('have no actions unless an alarm topic is given', () => {
    for (const [, a] of ofType('AWS::CloudWatch::Alarm')) expect(a.Properties.AlarmActions).toBeUndefined();
  });
});

describe('outputs', () => {
  it('publish the API URL, table name and queue URL', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const value = (prefix: string) => Object.entries(outputs).find(([k]) => k.startsWith(prefix))?.[1].Value;
    expect(value('RotaTableName')).toEqual({ Ref: tableId() });
    expect(value('RotaRunsQueueUrl')).toEqual({ Ref: queueId('RunsQueue') });
    expect(JSON.stringify(value('RotaApiUrl'))).toMatch(/https:\/\/.*execute-api/);
  });
});

describe('props', () => {
  // Validation runs before any function is created, so these stacks never bundle.
  const build = (props: TaskServiceProps) => () =>
    new TaskService(new Stack(new App(), 'Invalid'), 'Rota', props);

  it.each([
    [
      'executorMaxConcurrency 1',
      { executorMaxConcurrency: 1 },
      /executorMaxConcurrency must be an integer from 2 to 1000/,
    ],
    ['executorMaxConcurrency 1001', { executorMaxConcurrency: 1001 }, /executorMaxConcurrency/],
    ['dueShards 0', { dueShards: 0 }, /dueShards must be an integer from 1 to 256/],
    ['runRetention 36 h', { runRetention: Duration.hours(36) }, /runRetention \(days\)/],
    ['schedulerRate 30 s', { schedulerRate: Duration.seconds(30) }, /schedulerRate \(minutes\)/],
    ['executorTimeout 16 min', { executorTimeout: Duration.minutes(16) }, /executorTimeout/],
    [
      'executorBatchingWindow 301 s',
      { executorBatchingWindow: Duration.seconds(301) },
      /executorBatchingWindow \(seconds\) must be an integer from 0 to 300/,
    ],
    [
      'executorBatchingWindow 500 ms',
      { executorBatchingWindow: Duration.millis(500) },
      /executorBatchingWindow \(seconds\)/,
    ],
    ['apiRateLimit 0', { apiRateLimit: 0 }, /apiRateLimit must be a positive number/],
    ['targetLambdaArns *', { targetLambdaArns: ['*'] }, /targetLambdaArns must list ARNs/],
  ] satisfies [string, TaskServiceProps, RegExp][])('rejects %s at synth time', (_, props, message) => {
    expect(build(props)).toThrow(message);
  });

  it.each([
    ['authorizerCacheTtl 2 h', { authorizerCacheTtl: Duration.hours(2) }, /authorizerCacheTtl \(seconds\)/],
    ['maxTasksPerOrg 0', { maxTasksPerOrg: 0 }, /maxTasksPerOrg must be an integer from 1/],
  ] satisfies [string, TaskServiceProps, RegExp][])('rejects %s at synth time', (_, props, message) => {
    expect(build(props)).toThrow(message);
  });

  const basePaths = API_FUNCTIONS.flatMap((spec) => (spec.basePath ? [spec.basePath] : []));
  const routesOf = (stack: Stack) =>
    Object.values(Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route'))
      .map((r) => `${r.Properties.RouteKey} ${r.Properties.AuthorizationType}`)
      .sort();
  const unbundled = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

  it("with authMode 'none' opens every route, and cdk-nag reports the open system routes", () => {
    // No bundling: this stack is only read for its routes and its nag findings.
    const open = unbundled();
    const stack = new Stack(open, 'Open');
    const service = new TaskService(stack, 'Rota', { authMode: 'none' });
    Aspects.of(open).add(new AwsSolutionsChecks());

    expect(routesOf(stack)).toEqual(
      [
        ...basePaths.flatMap((base) => [`ANY ${base} NONE`, `ANY ${base}/{proxy+} NONE`]),
        'GET /api/v2/events NONE',
        'GET / NONE',
        'GET /api/v2/openapi.json NONE',
        'GET /health NONE',
      ].sort(),
    );
    expect(service.authorizer).toBeUndefined();
    const flagged = Annotations.fromStack(stack)
      .findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))
      .map((m) => `${m.id} ${String(m.entry.data).slice(0, 18)}`);
    // The HttpApi is RotaApi's `Default` child: hidden from logical IDs, not from construct paths.
    const routeId = (base: string) => `/Open/Rota/Api/Default/ANY${base.replaceAll('/', '--')}`;
    expect(flagged.sort()).toEqual(
      [
        ...basePaths.flatMap((base) => [
          `${routeId(base)}--{proxy+}/Resource AwsSolutions-APIG4`,
          `${routeId(base)}/Resource AwsSolutions-APIG4`,
        ]),
        '/Open/Rota/Api/Default/GET--api--v2--events/Resource AwsSolutions-APIG4',
      ].sort(),
    );
  });

  it('executorBatchingWindow sets the event source window, and the runs queue visibility makes room for it', () => {
    const stack = new Stack(unbundled(), 'Window');
    new TaskService(stack, 'Rota', { executorBatchingWindow: Duration.seconds(2) });
    const windowed = Template.fromStack(stack);
    windowed.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 2,
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    windowed.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
      VisibilityTimeout: 6 * 300 + 2,
    });
  });

  it("with authMode 'iam' signs every system route, deploys no token authorizer, and treats callers as the operator", () => {
    const stack = new Stack(unbundled(), 'Iam');
    const service = new TaskService(stack, 'Rota', { authMode: 'iam' });
    expect(routesOf(stack)).toEqual(
      [
        ...basePaths.flatMap((base) => [`ANY ${base} AWS_IAM`, `ANY ${base}/{proxy+} AWS_IAM`]),
        'GET /api/v2/events AWS_IAM',
        'GET / NONE',
        'GET /api/v2/openapi.json NONE',
        'GET /health NONE',
      ].sort(),
    );
    expect(service.authorizer).toBeUndefined();
    expect(service.operatorTokenSecret).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    // The handlers read the mode: with `iam`, API Gateway's SigV4 check is the authentication.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'rota-tasks-api', ROTA_AUTH_MODE: 'iam' }),
      },
    });
  });
});

describe('token auth', () => {
  it('puts a Lambda authorizer with simple responses, uncached and with no identity source, in front of the APIs', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    const [id] = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'));
    // No identity source: API Gateway never answers a missing header itself (its bare
    // {"message":"Unauthorized"}); the authorizer sees it, and the function answers it.
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: [],
      AuthorizerResultTtlInSeconds: 0,
      AuthorizerUri: Match.objectLike({
        'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [fnId('authorizer'), 'Arn'] }])],
      }),
    });
    for (const [, route] of ofType('AWS::ApiGatewayV2::Route')) {
      if (route.Properties.AuthorizationType === 'CUSTOM') {
        expect(route.Properties.AuthorizerId).toEqual({ Ref: id });
      }
    }
  });

  it('with authorizerCacheTtl, keys a cache of that length on the Authorization header', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Cached');
    new TaskService(stack, 'Rota', { authorizerCacheTtl: Duration.seconds(60) });
    const cached = Template.fromStack(stack);
    cached.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    // A cache needs a key: the header, which makes API Gateway answer its absence itself.
    cached.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 60,
    });
  });

  it('keeps the operator token in a generated secret that only the authorizer reads', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    expect(envOf('authorizer').ROTA_BOOTSTRAP_TOKEN_SECRET_ARN).toEqual({ Ref: secretId });
    expect(resourcesFor('authorizer', 'secretsmanager:GetSecretValue')).toEqual([{ Ref: secretId }]);
    for (const service of SERVICES.filter((s) => s !== 'authorizer')) {
      expect(actionsOf(service, 'secretsmanager'), service).toEqual([]);
    }
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(
      Object.entries(outputs).find(([k]) => k.startsWith('RotaOperatorTokenSecretArn'))?.[1].Value,
    ).toEqual({
      Ref: secretId,
    });
  });

  it('confines token access to token items with dynamodb:LeadingKeys', () => {
    for (const service of ['authorizer', 'authorizations-api'] as const) {
      const tableStatements = statementsOf(service).filter(
        (s) => JSON.stringify(s.Resource) === JSON.stringify(arnOf(tableId())),
      );
      expect(tableStatements, service).toHaveLength(1);
      expect(tableStatements[0]?.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUTH#*'] },
      });
    }
    expect(resourcesFor('authorizations-api', 'dynamodb:Query')).toEqual([indexArn('byOrgType')]);
  });

  it('seals secrets with a rotating key: APIs may only generate data keys, the executor may only decrypt', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const context = { StringEquals: { 'kms:EncryptionContext:purpose': 'rota-secrets' } };
    for (const service of [...SEALING, 'executor'] as const) {
      const kmsStatements = statementsOf(service).filter((s) =>
        asList(s.Action).some((a) => a.startsWith('kms:')),
      );
      expect(kmsStatements, service).toHaveLength(1);
      expect(kmsStatements[0]).toMatchObject({ Resource: arnOf(secretsKeyId()), Condition: context });
    }
  });

  it('throttles every route at the stage, authorizer included', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
  });
});

describe('events', () => {
  const busId = () => {
    const buses = ofType('AWS::Events::EventBus');
    expect(buses).toHaveLength(1);
    return (buses[0] as [string, Resource])[0];
  };

  it('streams the table’s changes, old and new images, to the event publisher', () => {
    const [, table] = ofType('AWS::DynamoDB::Table')[0] as [string, Resource];
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('event-publisher') },
      EventSourceArn: { 'Fn::GetAtt': [tableId(), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FilterCriteria: {
        Filters: [{ Pattern: JSON.stringify({ dynamodb: { Keys: { PK: { S: [{ prefix: 'TASK#' }] } } } }) }],
      },
    });
    expect(resourcesFor('event-publisher', 'dynamodb:GetRecords')).toEqual([
      { 'Fn::GetAtt': [tableId(), 'StreamArn'] },
    ]);
  });

  it('creates a bus that only the publisher may put events on, and names it in its environment', () => {
    expect(resourcesFor('event-publisher', 'events:PutEvents')).toEqual([arnOf(busId())]);
    const busName = ofType('AWS::Events::EventBus')[0]?.[1].Properties.Name;
    expect(busName).toMatch(/^\S+$/);
    expect(envOf('event-publisher').ROTA_EVENT_BUS_NAME).toBe(busName);
    for (const service of SERVICES.filter((s) => s !== 'event-publisher')) {
      expect(actionsOf(service, 'events'), service).toEqual([]);
    }
  });

  it('feeds "Run Requested" events from the listed sources to the run-requests function', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: ofType('AWS::Events::EventBus')[0]?.[1].Properties.Name,
      EventPattern: { source: ['rota.run-requests'], 'detail-type': ['Run Requested'] },
      Targets: [Match.objectLike({ Arn: arnOf(fnId('run-requests')) })],
    });
    expect(envOf('run-requests').ROTA_RUN_REQUEST_SOURCES).toBe('rota.run-requests');
  });

  it('takes a bus and the run request sources from its props', () => {
    // No bundling: the code does not change what the construct wires.
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'GivenBus');
    const bus = new events.EventBus(stack, 'Theirs');
    const service = new TaskService(stack, 'Rota', { eventBus: bus, runRequestSources: ['acme.billing'] });
    const given = Template.fromStack(stack);
    expect(service.eventBus).toBe(bus);
    given.resourceCountIs('AWS::Events::EventBus', 1);
    given.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['acme.billing'], 'detail-type': ['Run Requested'] },
    });
  });

  it('puts every event type by default, only the listed ones with eventTypes, and reads no stream with none', () => {
    const unbundled = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Types');
    const variablesOf = (f: unknown) =>
      ((f as Resource).Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {};
    const publisherEnv = (t: Template) =>
      variablesOf(
        Object.values(t.findResources('AWS::Lambda::Function')).find(
          (f) => variablesOf(f).ROTA_EVENT_BUS_NAME !== undefined,
        ),
      );
    const some = unbundled();
    new TaskService(some, 'Rota', { eventTypes: ['run.failed', 'check.status'] });
    const none = unbundled();
    new TaskService(none, 'Rota', { eventTypes: [] });

    expect(envOf('event-publisher').ROTA_EVENT_TYPES).toBeUndefined();
    expect(publisherEnv(Template.fromStack(some)).ROTA_EVENT_TYPES).toBe('run.failed,check.status');
    const streamMappings = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::EventSourceMapping')).filter((m) =>
        JSON.stringify((m as Resource).Properties.EventSourceArn).includes('StreamArn'),
      );
    expect(streamMappings(Template.fromStack(some))).toHaveLength(1);
    expect(streamMappings(Template.fromStack(none))).toEqual([]);
    expect(() => new TaskService(unbundled(), 'Rota', { eventTypes: ['run.done' as 'run.failed'] })).toThrow(
      /eventTypes: unknown run\.done; valid types are task\.created, .*check\.status/,
    );
  });
});
