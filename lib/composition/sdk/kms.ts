// Loaded by lib/composition/clients.ts when a secret is first sealed or opened, so a cold start carries no KMS client.
export { KMSClient } from '@aws-sdk/client-kms';
