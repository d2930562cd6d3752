import * as z from 'zod';
import { type Caller, can } from '../auth/model';
import { ForbiddenError } from '../errors';
import { parseOrThrow } from '../validation';
import { EVENT_TYPES, type RotaEvent, type RotaEventType } from './model';

/** Where local mode streams events as Server-Sent Events; on AWS its answer names the bus. */
export const EVENTS_PATH = '/api/v2/events';

/** The permission resource of the system that owns a task type (`task` → `tasks`), if any. */
export type ResourceOf = (taskType: string) => string | undefined;

const VALID_TYPES = EVENT_TYPES.map((t) => `"${t}"`).join(', ');
const isEventType = (name: string): name is RotaEventType => (EVENT_TYPES as string[]).includes(name);

/** `run.started,run.failed` → the set of those types; any other name is an issue that lists the valid ones. */
const typeListSchema = z.string().transform((text, ctx) => {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !isEventType(name));
  if (names.length === 0 || unknown.length > 0) {
    const got = unknown.length > 0 ? `, got ${unknown.map((n) => `"${n}"`).join(', ')}` : '';
    ctx.addIssue({
      code: 'custom',
      message: `must be comma-separated event types, each one of ${VALID_TYPES}${got}`,
    });
    return z.NEVER;
  }
  return new Set(names.filter(isEventType));
});

/** The filters of `GET /api/v2/events`; an unknown one is refused rather than ignored. */
export const eventsQuerySchema = z.strictObject({
  orgID: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "Only this org's events (an org token's own org at most)" }),
  taskID: z.string().min(1).optional().meta({ description: "Only this task's events" }),
  type: z
    .string()
    .optional()
    .meta({ description: `Comma-separated event types, each one of ${VALID_TYPES}` }),
});

/** The same filters, with `type` parsed into a set of event types. */
const filtersSchema = eventsQuerySchema.extend({ type: typeListSchema.optional() });

export type EventWatch = (event: RotaEvent) => boolean;

/**
 * Which events a watcher is sent: those its filters ask for, of its own org (an org
 * token that names another org is refused), and only of systems it may read. An event
 * whose task type no system owns goes to the operator alone.
 */
export function eventWatch(
  caller: Caller,
  query: Readonly<Record<string, string>>,
  resourceOf: ResourceOf,
): EventWatch {
  const filters = parseOrThrow(filtersSchema, query, 'invalid query');
  const types = filters.type;
  if (caller.orgID !== undefined && filters.orgID !== undefined && filters.orgID !== caller.orgID) {
    throw new ForbiddenError(`orgID: this token reads the events of org "${caller.orgID}" only`);
  }
  const orgID = caller.orgID ?? filters.orgID;
  const readable = (taskType: string) => {
    if (caller.permissions === 'all') return true;
    const resource = resourceOf(taskType);
    return resource !== undefined && can(caller, 'read', resource);
  };
  return (event) =>
    (orgID === undefined || event.orgID === orgID) &&
    (filters.taskID === undefined || event.taskID === filters.taskID) &&
    (types === undefined || types.has(event.type)) &&
    readable(event.taskType);
}

/** One event as an SSE message: its id (what `Last-Event-ID` resumes after) and the event as JSON. */
export function sseMessage(event: RotaEvent): string {
  return `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The comment a stream sends while idle, so proxies keep it open. */
export const SSE_HEARTBEAT = ': keep-alive\n\n';
