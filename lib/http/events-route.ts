import * as z from 'zod';
import { NotFoundError } from '../errors';
import { EVENT_TYPES, type RotaEvent } from '../events/model';
import { EVENTS_PATH, eventsQuerySchema } from '../events/watch';
import { named, type RouteContract } from './route';

/** One event, as each SSE message's `data:` carries it (the bus's `detail` on AWS). For the document only. */
const eventSchema = named(
  'Event',
  z.object({
    id: z.string().meta({ description: 'Stable across redeliveries; the SSE `id:` line' }),
    type: z.enum(EVENT_TYPES),
    time: z.string(),
    orgID: z.string(),
    taskID: z.string(),
    taskType: z.string(),
    runID: z.string().optional(),
    scheduledFor: z.string().optional(),
    attempt: z.number().int().optional(),
    status: z.string().optional(),
    error: z.string().optional(),
    level: z.string().optional(),
    previousLevel: z.string().optional(),
  }) satisfies z.ZodType<RotaEvent>,
);

/** `GET /api/v2/events`: served by local mode (local/event-stream.ts); the deployed API answers it with {@link eventsOnAwsError}. */
export const EVENTS_ROUTE = {
  method: 'GET',
  path: EVENTS_PATH,
  summary:
    "Rota's events as Server-Sent Events (local mode only; on AWS, read them from the EventBridge bus). Each message's `id:` is the event's id and its `data:` the event as JSON; an idle stream sends a `: keep-alive` comment every 15 s.",
  query: eventsQuerySchema,
  headers: z.object({
    'Last-Event-ID': z
      .string()
      .optional()
      .meta({ description: 'Resume after this event, best effort: local mode keeps the last 1,000' }),
  }),
  responses: {
    200: { description: 'The event stream', schema: eventSchema, contentType: 'text/event-stream' },
  },
} as const satisfies RouteContract;

/** What the deployed API answers: Lambda answers once, so the stream is local mode's; AWS consumers read the bus. */
export const eventsOnAwsError = () =>
  new NotFoundError(
    `GET ${EVENTS_PATH} (Server-Sent Events) is served by local mode only: on AWS, Rota puts its events on its EventBridge bus (source "rota", one detail-type per event type); consume them with a rule on that bus`,
  );
