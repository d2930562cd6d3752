// Loaded by lib/composition/clients.ts on first use of an EventBridge target, so a cold start carries no EventBridge client.
export { EventBridgeClient } from '@aws-sdk/client-eventbridge';
