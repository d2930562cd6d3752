import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { RotaConfig } from '../config';

/**
 * The one SQS client of a process: the runs queue and `sqs` task targets. Its
 * endpoint comes from configuration only (the region's, or an emulator's), never
 * from a queue URL: the SDK's default (`useQueueUrlAsEndpoint`) would send a signed
 * request, with the role's access key id and session token, to whatever host a
 * task's queue URL names.
 */
export function createSqsClient(
  cfg: Pick<RotaConfig, 'AWS_REGION'> & Partial<Pick<RotaConfig, 'ROTA_SQS_ENDPOINT'>>,
  overrides: Partial<SQSClientConfig> = {},
): SQSClient {
  return new SQSClient({
    region: cfg.AWS_REGION,
    ...(cfg.ROTA_SQS_ENDPOINT ? { endpoint: cfg.ROTA_SQS_ENDPOINT } : {}),
    ...overrides,
    useQueueUrlAsEndpoint: false,
  });
}
