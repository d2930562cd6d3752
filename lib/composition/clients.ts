import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RotaConfig } from '../config';
import { recorded } from '../observability/aws-calls';
import { createSqsClient } from '../queue/sqs-client';
import type { Part, Rota } from './root';

/** The AWS services Rota calls, each with the setting that may point it at an emulator. */
const ENDPOINT_SETTING = {
  dynamodb: 'ROTA_DYNAMODB_ENDPOINT',
  sqs: 'ROTA_SQS_ENDPOINT',
  sns: 'ROTA_SNS_ENDPOINT',
  eventbridge: 'ROTA_EVENTBRIDGE_ENDPOINT',
  lambda: 'ROTA_LAMBDA_ENDPOINT',
  kms: 'ROTA_KMS_ENDPOINT',
  secretsmanager: 'ROTA_SECRETSMANAGER_ENDPOINT',
} as const satisfies Record<string, keyof RotaConfig>;

export type AwsService = keyof typeof ENDPOINT_SETTING;

/** Region, endpoint and credentials of one service's client, from the root alone: the one place they are chosen. */
export function clientOptions(rota: Pick<Rota, 'config' | 'credentials'>, service: AwsService) {
  const endpoint = rota.config[ENDPOINT_SETTING[service]];
  return {
    region: rota.config.AWS_REGION,
    ...(endpoint ? { endpoint } : {}),
    ...(rota.credentials ? { credentials: rota.credentials } : {}),
  };
}

// Every client passes through `recorded`, so the IAM contract sees each call it makes.
export const dynamoDbClient: Part<DynamoDBClient> = (rota) =>
  recorded(new DynamoDBClient(clientOptions(rota, 'dynamodb')));

/** The one SQS client: the runs queue and `sqs` targets (it never follows a queue URL's host). */
export const sqsClient: Part<SQSClient> = (rota) => {
  const { endpoint, credentials } = clientOptions(rota, 'sqs');
  return recorded(
    createSqsClient(
      { AWS_REGION: rota.config.AWS_REGION, ROTA_SQS_ENDPOINT: endpoint },
      credentials ? { credentials } : {},
    ),
  );
};

/**
 * A client built on first use, its SDK package loaded then (a chunk of its own, ADR
 * 0017): a cold start pays neither the bytes nor the import for a service the function
 * may never call. A failed load is not kept, so the next use tries again.
 *
 * Their parts live apart (target-clients.ts, secrets.ts), never here: esbuild makes a
 * chunk of every `import()` in a module it bundles, even one in a part nothing calls,
 * and a module the entry reaches by any static import, used or not, goes into a chunk
 * the entry loads. So this module imports no SDK package a lazy client also uses
 * (EventBridge's bus client is in events.ts): the executor's EventBridge client would
 * be back in its cold path.
 */
export type LazyClient<C> = () => Promise<C>;

export function onFirstUse<C>(build: () => Promise<C>): LazyClient<C> {
  let built: Promise<C> | undefined;
  return () => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
}

/**
 * `service`'s client, built on first use by `construct` from its lazily imported SDK
 * module, with the root's options, and recorded like every other client. `construct`
 * holds the `import()`, so the chunk stays in the module that names it.
 */
export function lazyClient<C>(
  rota: Pick<Rota, 'config' | 'credentials'>,
  service: AwsService,
  construct: (options: ReturnType<typeof clientOptions>) => Promise<C>,
): LazyClient<C> {
  return onFirstUse(async () => recorded(await construct(clientOptions(rota, service))));
}
