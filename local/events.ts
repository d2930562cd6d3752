import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ItemChange } from '../lib/events/derive';
import type { RotaEvent } from '../lib/events/model';
import { createTaskInfoLookup, eventsOf } from '../lib/events/stream-consumer';
import { logger } from '../lib/observability/logger';
import { LOCAL_CREDENTIALS } from './config';

/** How many recent events local mode keeps, for watchers that resume (Last-Event-ID). */
const KEPT = 1000;

export type EventListener = (event: RotaEvent) => void;

/**
 * Local mode's events: each item change from the write hook (local/write-hook.ts)
 * through the same derivation the stream consumer runs on AWS (lib/events), in the order
 * the writes happened, kept in memory and handed to every subscriber.
 */
export function createLocalEvents(dynamoEndpoint: string, tableName: string) {
  const client = new DynamoDBClient({
    endpoint: dynamoEndpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const lookup = createTaskInfoLookup({ client, tableName });
  const kept: RotaEvent[] = [];
  const listeners = new Set<EventListener>();
  let chain: Promise<void> = Promise.resolve();

  const emit = (event: RotaEvent) => {
    kept.push(event);
    if (kept.length > KEPT) kept.shift();
    logger.debug('event', { ...event });
    for (const listener of listeners) listener(event);
  };

  return {
    onChange(change: ItemChange): void {
      chain = chain
        .then(async () => {
          for (const event of await eventsOf([change], lookup)) emit(event);
        })
        .catch((error: unknown) => logger.error('event derivation failed', { error }));
    },
    /** The kept events after `lastEventID` (all kept ones when it is unknown), then every new one. */
    subscribe(listener: EventListener, lastEventID?: string): () => void {
      const from = lastEventID ? kept.findIndex((e) => e.id === lastEventID) + 1 : kept.length;
      for (const event of kept.slice(from)) listener(event);
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** How many subscribers are listening now (a stream that ended must leave none behind). */
    listenerCount: () => listeners.size,
    /** Settles once every change handed over so far has become events. */
    settled: () => chain,
    stop(): void {
      listeners.clear();
      client.destroy();
    },
  };
}

export type LocalEvents = ReturnType<typeof createLocalEvents>;
