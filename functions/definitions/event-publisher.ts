import type { DynamoDBStreamEvent } from 'aws-lambda';
import { streamConsumer } from '../../lib/composition/events';
import { defineFunction } from '../../lib/composition/function';
import type { StreamRecord } from '../../lib/events/stream-consumer';

/**
 * Fed by the table's DynamoDB stream: each task, run and check status change becomes an
 * event on the bus (lib/events/derive.ts). A thrown error makes Lambda retry the batch.
 */
export const eventPublisher = defineFunction({
  name: 'event-publisher',
  needs: ['table', 'eventBus'],
  build: (rota) => {
    const consume = rota.get(streamConsumer);
    return async (event: DynamoDBStreamEvent) => consume(event.Records as readonly StreamRecord[]);
  },
});
