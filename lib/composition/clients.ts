import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
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

export const snsClient: Part<SNSClient> = (rota) => recorded(new SNSClient(clientOptions(rota, 'sns')));

export const eventBridgeClient: Part<EventBridgeClient> = (rota) =>
  recorded(new EventBridgeClient(clientOptions(rota, 'eventbridge')));

export const lambdaClient: Part<LambdaClient> = (rota) =>
  recorded(new LambdaClient(clientOptions(rota, 'lambda')));

export const kmsClient: Part<KMSClient> = (rota) => recorded(new KMSClient(clientOptions(rota, 'kms')));

export const secretsManagerClient: Part<SecretsManagerClient> = (rota) =>
  recorded(new SecretsManagerClient(clientOptions(rota, 'secretsmanager')));
