import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RecordedCall } from '../../lib/observability/aws-calls';

/**
 * The recorder behind the IAM contract: what it writes for a call, from the request
 * alone. No request leaves the process: a build-step middleware answers every call.
 */
describe('the AWS call recorder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rota-calls-'));
  let recorder: typeof import('../../lib/observability/aws-calls');
  const config = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  /** Answers every call at the build step, so nothing is serialized onto the wire. */
  const offline = <C extends DynamoDBClient | SQSClient>(client: C): C => {
    const answer = () => async () => ({ output: { $metadata: {} }, response: {} });
    (client.middlewareStack as DynamoDBClient['middlewareStack']).add(answer, {
      step: 'build',
      name: 'offline',
    });
    return client;
  };

  const lines = (): RecordedCall[] =>
    readdirSync(dir).flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as RecordedCall),
    );

  beforeAll(async () => {
    vi.stubEnv('ROTA_AWS_CALL_LOG', dir);
    vi.resetModules();
    recorder = await import('../../lib/observability/aws-calls');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the function, action, resource role and leading keys of each call', async () => {
    const dynamo = offline(recorder.recorded(new DynamoDBClient(config)));
    const sqs = offline(recorder.recorded(new SQSClient({ ...config, useQueueUrlAsEndpoint: false })));
    recorder.declareResource('table', 't1');
    recorder.declareResource('runsQueue', 'https://sqs.us-east-1.amazonaws.com/000000000000/runs');
    const handler = recorder.rotaHandler('executor', async () => {
      await dynamo.send(
        new GetItemCommand({ TableName: 't1', Key: { PK: { S: 'TASK#1' }, SK: { S: 'TASK' } } }),
      );
      await dynamo.send(
        new QueryCommand({
          TableName: 't1',
          IndexName: 'byOrgType',
          KeyConditionExpression: '#pk = :pk AND #sk > :after',
          ExpressionAttributeNames: { '#pk': 'GSI1PK', '#sk': 'GSI1SK' },
          ExpressionAttributeValues: { ':pk': { S: 'org#~status' }, ':after': { S: 'x' } },
        }),
      );
      await dynamo.send(
        new BatchWriteItemCommand({
          RequestItems: {
            t1: [
              { DeleteRequest: { Key: { PK: { S: 'TASK#1' }, SK: { S: 'RUN#a' } } } },
              { DeleteRequest: { Key: { PK: { S: 'TASK#2' }, SK: { S: 'RUN#b' } } } },
            ],
          },
        }),
      );
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/runs',
          Entries: [{ Id: '1', MessageBody: '{}' }],
        }),
      );
    });
    await handler();
    // Outside any function (test setup, local-mode bootstrapping): not recorded.
    await dynamo.send(new ScanCommand({ TableName: 't1' }));

    expect(lines()).toEqual([
      { fn: 'executor', invoked: true },
      {
        fn: 'executor',
        service: 'dynamodb',
        operation: 'GetItem',
        action: 'dynamodb:GetItem',
        resource: 't1',
        role: 'table',
        context: { 'dynamodb:LeadingKeys': ['TASK#1'] },
      },
      {
        fn: 'executor',
        service: 'dynamodb',
        operation: 'Query',
        action: 'dynamodb:Query',
        resource: 't1',
        role: 'table',
        index: 'byOrgType',
        context: { 'dynamodb:LeadingKeys': ['org#~status'] },
      },
      {
        fn: 'executor',
        service: 'dynamodb',
        operation: 'BatchWriteItem',
        action: 'dynamodb:BatchWriteItem',
        resource: 't1',
        role: 'table',
        context: { 'dynamodb:LeadingKeys': ['TASK#1', 'TASK#2'] },
      },
      {
        fn: 'executor',
        service: 'sqs',
        operation: 'SendMessageBatch',
        action: 'sqs:SendMessage',
        resource: 'runs',
        role: 'runsQueue',
      },
    ]);
    dynamo.destroy();
    sqs.destroy();
  });

  it('leaves a client untouched when no sink is set', async () => {
    vi.stubEnv('ROTA_AWS_CALL_LOG', '');
    const client = new DynamoDBClient(config);
    const before = client.middlewareStack.identify().length;
    recorder.recorded(client);
    expect(client.middlewareStack.identify()).toHaveLength(before);
    vi.stubEnv('ROTA_AWS_CALL_LOG', dir);
    client.destroy();
  });
});
