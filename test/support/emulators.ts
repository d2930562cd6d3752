import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { describe } from 'vitest';
import { declareResource, recorded } from '../../lib/observability/aws-calls';
import { tableDefinition } from '../../lib/store/keys';
import { startDynalite, startFauxqs } from '../../local/emulators';

/**
 * Test backends. The pure-npm emulators (dynalite, fauxqs) always run in-process.
 * moto joins when ROTA_TEST_MOTO_URL points at a running moto_server (.ci/run
 * starts one, and fails without it), so the same suites prove the code against both;
 * without it the moto suites show as skipped.
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

/** A backend a suite may run on; `available` is false when it needs moto and none is configured. */
export interface BackendOption<T = Backend> {
  name: string;
  available: boolean;
  start: () => Promise<T>;
}

const MOTO_MISSING = 'moto_server is not configured (ROTA_TEST_MOTO_URL)';

/**
 * `describe.each` over backends, except that a backend that cannot run here (moto with no
 * ROTA_TEST_MOTO_URL) shows as a skipped suite in the counts instead of vanishing.
 * `$name` in the title is the backend's name.
 */
export function describeEach<T extends { name: string; available: boolean }>(list: readonly T[]) {
  return (title: string, suite: (backend: T) => void): void => {
    for (const backend of list) {
      describe.runIf(backend.available)(title.replaceAll('$name', backend.name), () => suite(backend));
    }
  };
}

/** The moto endpoint, for a backend's `start`; only called when the backend is available. */
export function requireMoto(): string {
  const moto = motoUrl();
  if (!moto) throw new Error(MOTO_MISSING);
  return moto;
}

/** The backends a suite runs against: npm emulators, and moto (skipped when it is not configured). */
export function backends(): BackendOption[] {
  return [
    {
      name: 'dynalite+fauxqs',
      available: true,
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
    {
      name: 'moto',
      available: motoUrl() !== undefined,
      start: async () => {
        const moto = requireMoto();
        return { name: 'moto', dynamoEndpoint: moto, sqsEndpoint: moto, stop: async () => {} };
      },
    },
  ];
}

/**
 * Backends for suites that race conditional writes. moto's DynamoDB does not
 * serialize concurrent conditional writes to one item (a probe saw several winners
 * in 21 of 50 four-way races), which real DynamoDB and dynalite do, so race suites
 * keep DynamoDB on dynalite and use moto for SQS only.
 */
export function raceSafeBackends(): BackendOption[] {
  return [
    ...backends().filter((b) => b.name !== 'moto'),
    {
      name: 'dynalite+moto-sqs',
      available: motoUrl() !== undefined,
      start: async (): Promise<Backend> => {
        const moto = requireMoto();
        const dynamo = await startDynalite();
        return {
          name: 'dynalite+moto-sqs',
          dynamoEndpoint: dynamo.endpoint,
          sqsEndpoint: moto,
          stop: () => dynamo.stop(),
        };
      },
    },
  ];
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
