import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { DETAIL_TYPES, EVENT_SOURCE, type RotaEvent } from './model';

/** Where derived events go: the EventBridge bus on AWS, local mode's in-process sink. */
export interface EventSink {
  publish(events: readonly RotaEvent[]): Promise<void>;
}

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_MAX = 10;

export class EventPublishError extends Error {}

/** Puts Rota's events on a bus, 10 per call; any failed entry fails the batch, so the stream redelivers it. */
export function createBusPublisher({
  client,
  busName,
}: {
  client: EventBridgeClient;
  busName: string;
}): EventSink {
  const entry = (event: RotaEvent): PutEventsRequestEntry => {
    const time = new Date(event.time);
    return {
      EventBusName: busName,
      Source: EVENT_SOURCE,
      DetailType: DETAIL_TYPES[event.type],
      // An item's own time when it has a valid one; EventBridge's arrival time otherwise.
      ...(Number.isNaN(time.getTime()) ? {} : { Time: time }),
      Detail: JSON.stringify(event),
    };
  };
  return {
    async publish(events) {
      for (let start = 0; start < events.length; start += PUT_EVENTS_MAX) {
        const batch = events.slice(start, start + PUT_EVENTS_MAX);
        const result = await client.send(new PutEventsCommand({ Entries: batch.map(entry) }));
        const failed = result.FailedEntryCount ?? 0;
        if (failed > 0) {
          const codes = (result.Entries ?? []).map((e) => e.ErrorCode).filter(Boolean);
          throw new EventPublishError(
            `PutEvents failed for ${failed} of ${batch.length} events: ${codes.join(', ')}`,
          );
        }
      }
    },
  };
}
