import { ConfigError } from '../config';
import { createBusPublisher, type EventSink } from '../events/publisher';
import { createRunRequestHandler } from '../events/run-requests';
import { createStreamConsumer, createTaskInfoLookup } from '../events/stream-consumer';
import { declareResource } from '../observability/aws-calls';
import { logger } from '../observability/logger';
import { eventBridgeClient } from './clients';
import { runService, stores, table } from './core';
import type { Part } from './root';

// Events out (the stream consumer) and run requests in: apart from the other parts, so
// the consumer's bundle carries neither the stores' entities nor zod's schemas.

export const eventBus: Part<EventSink> = (rota) => {
  const busName = rota.config.ROTA_EVENT_BUS_NAME;
  if (!busName) throw new ConfigError('invalid Rota configuration: ROTA_EVENT_BUS_NAME: required');
  declareResource('eventBus', busName);
  return createBusPublisher({ client: rota.get(eventBridgeClient), busName });
};

export const taskInfoLookup: Part<ReturnType<typeof createTaskInfoLookup>> = (rota) =>
  createTaskInfoLookup(rota.get(table));

export const streamConsumer: Part<ReturnType<typeof createStreamConsumer>> = (rota) =>
  createStreamConsumer({ lookup: rota.get(taskInfoLookup), sink: rota.get(eventBus) });

export const runRequestHandler: Part<ReturnType<typeof createRunRequestHandler>> = (rota) => {
  const runs = rota.get(runService);
  return createRunRequestHandler({
    getTask: (id) => rota.get(stores).tasks.get(id),
    runsFor: (tasks) => runs.forSystem(tasks),
    allowedSources: rota.config.ROTA_RUN_REQUEST_SOURCES,
    logger,
  });
};
