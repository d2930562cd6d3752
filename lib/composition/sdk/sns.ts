// Loaded by lib/composition/clients.ts on first use of an SNS target, so a cold start carries no SNS client.
export { SNSClient } from '@aws-sdk/client-sns';
