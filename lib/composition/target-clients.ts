import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SNSClient } from '@aws-sdk/client-sns';
import { type LazyClient, lazyClient } from './clients';
import type { Part } from './root';

// The executor's target clients, each loaded on the first run of its kind. Only
// composition/engine.ts imports this module, so no other bundle gets their chunks.

/** EventBridge for `eventbridge` targets, which few tasks have (Rota's own bus has eventBridgeClient). */
export const eventBridgeTargetClient: Part<LazyClient<EventBridgeClient>> = (rota) =>
  lazyClient(
    rota,
    'eventbridge',
    async (options) => new (await import('./sdk/eventbridge')).EventBridgeClient(options),
  );

export const snsClient: Part<LazyClient<SNSClient>> = (rota) =>
  lazyClient(rota, 'sns', async (options) => new (await import('./sdk/sns')).SNSClient(options));

export const lambdaClient: Part<LazyClient<LambdaClient>> = (rota) =>
  lazyClient(rota, 'lambda', async (options) => new (await import('./sdk/lambda')).LambdaClient(options));
