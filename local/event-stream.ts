import type { IncomingMessage, ServerResponse } from 'node:http';
import { callerFromContext } from '../lib/auth/authorizer';
import { MethodNotAllowedError, toErrorBody } from '../lib/errors';
import { EVENTS_PATH, eventWatch, type ResourceOf, SSE_HEARTBEAT, sseMessage } from '../lib/events/watch';
import { errorResponse } from '../lib/http/response';
import { logger } from '../lib/observability/logger';
import type { LocalEvents } from './events';

/** Often enough for proxies that drop a connection idle for 30 s or more. */
const HEARTBEAT_MS = 15_000;

export interface EventStreamsOptions {
  events: LocalEvents;
  resourceOf: ResourceOf;
  /** @default 15000 */
  heartbeatMs?: number | undefined;
}

/** A route the HTTP adapter answers itself, after the authorizer, with a response it writes as it goes. */
export interface StreamRoute {
  path: string;
  serve(req: IncomingMessage, res: ServerResponse, url: URL, authorizerContext: unknown): void;
}

/**
 * `GET /api/v2/events` in local mode: Rota's events as Server-Sent Events, filtered by
 * what the caller may read (lib/events/watch.ts). A Lambda answers once, so this lives
 * beside the HTTP adapter rather than in a handler; on AWS the bus carries the events.
 */
export function createEventStreams(options: EventStreamsOptions) {
  const open = new Set<ServerResponse>();
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;

  const start = (req: IncomingMessage, res: ServerResponse, url: URL, context: unknown) => {
    if (req.method !== 'GET')
      throw new MethodNotAllowedError(`method ${req.method} is not allowed on ${EVENTS_PATH}`);
    const accept = eventWatch(
      callerFromContext(context),
      Object.fromEntries(url.searchParams),
      options.resourceOf,
    );
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    open.add(res);
    const unsubscribe = options.events.subscribe((event) => {
      if (accept(event)) res.write(sseMessage(event));
    }, lastEventID(req));
    const heartbeat = setInterval(() => res.write(SSE_HEARTBEAT), heartbeatMs);
    res.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(res);
    });
  };

  const route: StreamRoute = {
    path: EVENTS_PATH,
    serve(req, res, url, context) {
      try {
        start(req, res, url, context);
      } catch (error) {
        // Only Rota's own errors get here (bad filters, tokens, methods): answered as every handler answers them.
        const { status, body, exposed } = toErrorBody(error);
        if (!exposed) logger.error('event stream failed to start', { error });
        const answer = errorResponse(status, body);
        res.writeHead(status, answer.headers as Record<string, string>).end(answer.body);
      }
    },
  };

  return {
    route,
    /** Streams open now. */
    openCount: () => open.size,
    /** Ends every open stream: local mode is stopping. */
    endAll(): void {
      for (const res of open) res.end();
    },
  };
}

export type EventStreams = ReturnType<typeof createEventStreams>;

function lastEventID(req: IncomingMessage): string | undefined {
  const value = req.headers['last-event-id'];
  const id = Array.isArray(value) ? value[0] : value;
  return id?.trim() || undefined;
}
