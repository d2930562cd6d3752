import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SNSClient } from '@aws-sdk/client-sns';
import { recorded } from '../observability/aws-calls';
import { clientOptions, type LazyClient, onFirstUse } from './clients';
import type { Part } from './root';

// The executor's target clients, each loaded on the first run of its kind. Only
// composition/engine.ts imports this module, so no other bundle gets their chunks.

/** EventBridge for `eventbridge` targets, which few tasks have (Rota's own bus has eventBridgeClient). */
export const eventBridgeTargetClient: Part<LazyClient<EventBridgeClient>> = (rota) =>
  onFirstUse(async () => {
    const sdk = await import('./sdk/eventbridge');
    return recorded(new sdk.EventBridgeClient(clientOptions(rota, 'eventbridge')));
  });

export const snsClient: Part<LazyClient<SNSClient>> = (rota) =>
  onFirstUse(async () => {
    const sdk = await import('./sdk/sns');
    return recorded(new sdk.SNSClient(clientOptions(rota, 'sns')));
  });

export const lambdaClient: Part<LazyClient<LambdaClient>> = (rota) =>
  onFirstUse(async () => {
    const sdk = await import('./sdk/lambda');
    return recorded(new sdk.LambdaClient(clientOptions(rota, 'lambda')));
  });
