// Loaded by lib/composition/clients.ts on first use of a Lambda target, so a cold start carries no Lambda client.
export { LambdaClient } from '@aws-sdk/client-lambda';
