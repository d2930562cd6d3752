import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ConfigError, required } from '../config';
import { eventTypesFrom, type RotaEventType } from '../events/model';
import { createBusPublisher, type EventSink } from '../events/publisher';
import { createStreamConsumer, createTaskInfoLookup } from '../events/stream-consumer';
import { declareResource, recorded } from '../observability/aws-calls';
import { clientOptions, dynamoDbClient } from './clients';
import type { Part } from './root';

// Events out: the stream consumer's parts, apart from core.ts, so its bundle carries
// neither the stores' entities nor the task model (ADR 0021).

/** Rota's own event bus: the event publisher sends on every invocation, so its client loads with it. */
export const eventBridgeClient: Part<EventBridgeClient> = (rota) =>
  recorded(new EventBridgeClient(clientOptions(rota, 'eventbridge')));

export const eventBus: Part<EventSink> = (rota) => {
  const busName = rota.config.ROTA_EVENT_BUS_NAME;
  if (!busName) throw new ConfigError('invalid Rota configuration: ROTA_EVENT_BUS_NAME: required');
  declareResource('eventBus', busName);
  return createBusPublisher({ client: rota.get(eventBridgeClient), busName });
};

export const taskInfoLookup: Part<ReturnType<typeof createTaskInfoLookup>> = (rota) => {
  const tableName = required(rota.config, 'ROTA_TABLE_NAME');
  declareResource('table', tableName);
  return createTaskInfoLookup({ client: rota.get(dynamoDbClient), tableName });
};

/** The types the operator lists (ROTA_EVENT_TYPES), refused at cold start when one is unknown. */
function wantedEventTypes(listed: readonly string[] | undefined): readonly RotaEventType[] | undefined {
  if (listed === undefined) return undefined;
  const parsed = eventTypesFrom(listed);
  if ('error' in parsed)
    throw new ConfigError(`invalid Rota configuration: ROTA_EVENT_TYPES: ${parsed.error}`);
  return parsed.types;
}

export const streamConsumer: Part<ReturnType<typeof createStreamConsumer>> = (rota) =>
  createStreamConsumer({
    lookup: rota.get(taskInfoLookup),
    sink: rota.get(eventBus),
    types: wantedEventTypes(rota.config.ROTA_EVENT_TYPES),
  });
