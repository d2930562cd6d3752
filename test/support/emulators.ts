import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { declareResource, recorded } from '../../lib/observability/aws-calls';
import { tableDefinition } from '../../lib/store/keys';
import { startDynalite, startFauxqs } from '../../local/emulators';

/**
 * Test backends. The pure-npm emulators (dynalite, fauxqs) always run in-process.
 * moto joins when ROTA_TEST_MOTO_URL points at a running moto_server (.ci/run
 * starts one), so the same suites prove the code against both.
 */
export const TEST_CLIENT_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
} as const;

export const motoUrl = (): string | undefined => process.env.ROTA_TEST_MOTO_URL || undefined;

export interface Backend {
  name: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  stop(): Promise<void>;
}

/** Starts the backends a suite runs against: npm emulators, plus moto when available. */
export function backends(): { name: string; start: () => Promise<Backend> }[] {
  const list = [
    {
      name: 'dynalite+fauxqs',
      start: async (): Promise<Backend> => {
        const [dynamo, sqs] = await Promise.all([startDynalite(), startFauxqs()]);
        return {
          name: 'dynalite+fauxqs',
          dynamoEndpoint: dynamo.endpoint,
          sqsEndpoint: sqs.endpoint,
          stop: async () => {
            await Promise.all([dynamo.stop(), sqs.stop()]);
          },
        };
      },
    },
  ];
  const moto = motoUrl();
  if (moto) {
    list.push({
      name: 'moto',
      start: async () => ({ name: 'moto', dynamoEndpoint: moto, sqsEndpoint: moto, stop: async () => {} }),
    });
  }
  return list;
}

/**
 * Backends for suites that race conditional writes. moto's DynamoDB does not
 * serialize concurrent conditional writes to one item (a probe saw several winners
 * in 21 of 50 four-way races), which real DynamoDB and dynalite do, so race suites
 * keep DynamoDB on dynalite and use moto for SQS only.
 */
export function raceSafeBackends(): { name: string; start: () => Promise<Backend> }[] {
  const list = backends().filter((b) => b.name !== 'moto');
  const moto = motoUrl();
  if (moto) {
    list.push({
      name: 'dynalite+moto-sqs',
      start: async (): Promise<Backend> => {
        const dynamo = await startDynalite();
        return {
          name: 'dynalite+moto-sqs',
          dynamoEndpoint: dynamo.endpoint,
          sqsEndpoint: moto,
          stop: () => dynamo.stop(),
        };
      },
    });
  }
  return list;
}

/** Built like the runtime's clients (`recorded`), so calls made through them count in the IAM contract. */
export const dynamoClient = (endpoint: string) =>
  recorded(new DynamoDBClient({ ...TEST_CLIENT_CONFIG, endpoint }));
export const sqsClient = (endpoint: string) =>
  recorded(new SQSClient({ ...TEST_CLIENT_CONFIG, endpoint, useQueueUrlAsEndpoint: false }));

/** A fresh table per suite, so suites never see each other's items. */
export async function createTestTable(client: DynamoDBClient, prefix = 'rota-test'): Promise<string> {
  const name = `${prefix}-${ulid().toLowerCase()}`;
  await client.send(new CreateTableCommand(tableDefinition(name)));
  declareResource('table', name);
  return name;
}

export async function createTestQueue(client: SQSClient, prefix = 'rota-test'): Promise<string> {
  const out = await client.send(new CreateQueueCommand({ QueueName: `${prefix}-${ulid().toLowerCase()}` }));
  if (!out.QueueUrl) throw new Error('CreateQueue returned no URL');
  return out.QueueUrl;
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
