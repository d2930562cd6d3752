import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { deriveEvents, type ItemChange, needsTask, type TaskInfo } from './derive';
import type { RotaEvent, RotaEventType } from './model';
import type { EventSink } from './publisher';

/** Looks up a run's task (its org and type), which the run item does not carry. */
export type TaskInfoLookup = (taskID: string) => Promise<TaskInfo | undefined>;

/** One GetItem per task, for only the two attributes events need, cached for the container's life (neither ever changes). */
export function createTaskInfoLookup({ client, tableName }: { client: DynamoDBClient; tableName: string }) {
  const cache = new Map<string, TaskInfo>();
  return async (taskID: string): Promise<TaskInfo | undefined> => {
    const cached = cache.get(taskID);
    if (cached) return cached;
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { PK: { S: `TASK#${taskID}` }, SK: { S: 'TASK' } },
        ProjectionExpression: 'orgID, #type',
        ExpressionAttributeNames: { '#type': 'type' },
      }),
    );
    const orgID = Item?.orgID?.S;
    const type = Item?.type?.S;
    if (!orgID || !type) return undefined;
    if (cache.size > 10_000) cache.clear();
    const info = { orgID, type };
    cache.set(taskID, info);
    return info;
  };
}

/** The events of a list of item changes, in order; a run of a task gone (deleted) makes none. */
export async function eventsOf(changes: readonly ItemChange[], lookup: TaskInfoLookup): Promise<RotaEvent[]> {
  const events: RotaEvent[] = [];
  for (const change of changes) {
    const taskID = needsTask(change);
    const task = taskID ? await lookup(taskID) : undefined;
    events.push(...deriveEvents(change, task));
  }
  return events;
}

/** A DynamoDB stream record, as Lambda hands it over (only what is read). */
export interface StreamRecord {
  dynamodb?: {
    OldImage?: Record<string, unknown>;
    NewImage?: Record<string, unknown>;
  };
}

const image = (raw: Record<string, unknown> | undefined) =>
  raw ? unmarshall(raw as Record<string, AttributeValue>) : undefined;

export function changeOf(record: StreamRecord): ItemChange {
  return { oldImage: image(record.dynamodb?.OldImage), newImage: image(record.dynamodb?.NewImage) };
}

/**
 * The stream consumer: derive the batch's events and put them on the bus. A failure
 * throws, so Lambda retries the batch (bisecting it); ids are stable, so what was already
 * put and is put again dedups downstream.
 */
export function createStreamConsumer({
  lookup,
  sink,
  types,
}: {
  lookup: TaskInfoLookup;
  sink: EventSink;
  /** The types the operator wants on the bus. @default every type */
  types?: readonly RotaEventType[];
}) {
  const wanted = types ? new Set(types) : undefined;
  return async (records: readonly StreamRecord[]): Promise<{ events: number }> => {
    const derived = await eventsOf(records.map(changeOf), lookup);
    const events = wanted ? derived.filter((event) => wanted.has(event.type)) : derived;
    if (events.length > 0) await sink.publish(events);
    return { events: events.length };
  };
}
