import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerResult,
  Context,
} from 'aws-lambda';
import { logger } from '../lib/observability/logger';
import type { StreamRoute } from './event-stream';
import { lambdaContext } from './lambda-context';

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Routes a path prefix to one system's handler, as API Gateway's route groups do. */
export interface Mount {
  prefix: string;
  /** The function's name in the construct (`tasks-api`); its Lambda context says `rota-<fn>`. */
  fn: string;
  handler: HttpHandler;
}

/** The HTTP API's Lambda authorizer (functions/authorizer.ts), called as API Gateway calls it. */
export type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEventV2,
  context: Context,
) => Promise<APIGatewaySimpleAuthorizerResult & { context?: Record<string, unknown> }>;

export interface AdapterAuth {
  authorizer: AuthorizerHandler;
  /** Routes API Gateway serves without the authorizer. */
  isPublic(method: string, path: string): boolean;
}

/** Lambda's own request payload cap; the handlers enforce Rota's smaller 1 MB body limit. */
const MAX_ADAPTER_BODY = 6 * 1024 * 1024;

/**
 * Turns a Node request into an API Gateway HTTP API (v2) event and writes the result
 * back. With `auth`, protected routes go through the same Lambda authorizer first and
 * carry its context in `requestContext.authorizer.lambda`, as on AWS.
 */
export function createHttpAdapter(
  mounts: readonly Mount[],
  auth?: AdapterAuth,
  streams: readonly StreamRoute[] = [],
) {
  const adapt = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const stream = streams.find((s) => url.pathname === s.path);
    const mount = mounts.find((m) => url.pathname === m.prefix || url.pathname.startsWith(`${m.prefix}/`));
    if (!mount && !stream)
      return send(res, 404, { code: 'not found', message: `path not found: ${url.pathname}` });
    const body = await readBody(req);
    if (!body) return send(res, 413, { code: 'request too large', message: 'request body is too large' });
    const event = toEvent(req, url, body);
    if (auth && !auth.isPublic(event.requestContext.http.method, url.pathname)) {
      // Every request, one without the header included: the construct's authorizer has
      // no identity source by default, so API Gateway never answers for it.
      const decision = await auth.authorizer(authorizerEvent(event), lambdaContext('rota-authorizer'));
      if (!decision.isAuthorized) return send(res, 403, { code: 'forbidden', message: 'forbidden' });
      (event.requestContext as { authorizer?: unknown }).authorizer = { lambda: decision.context ?? {} };
    }
    if (stream) return stream.serve(req, res, url, authorizerContextOf(event));
    if (!mount) return;
    const result = await mount.handler(event, lambdaContext(`rota-${mount.fn}`));
    res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
    res.end(result.body ?? '');
  };
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      await adapt(req, res);
    } catch (error) {
      logger.error('local adapter: the authorizer or a handler failed', {
        error,
        path: req.url?.split('?')[0],
      });
      // What API Gateway answers when an authorizer or integration fails.
      if (!res.headersSent)
        send(res, 500, { code: 'internal error', message: 'an internal error has occurred' });
      else res.destroy();
    }
  };
}

/** What the authorizer put on the event; absent without one, which every stream refuses. */
const authorizerContextOf = (event: APIGatewayProxyEventV2): unknown =>
  (event.requestContext as { authorizer?: { lambda?: unknown } }).authorizer?.lambda;

/** The request body, or undefined past Lambda's payload cap. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_ADAPTER_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
): APIGatewayProxyEventV2 & {
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams)
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: body.length ? body.toString('base64') : undefined,
    isBase64Encoded: body.length > 0,
  };
}

/** The REQUEST authorizer event API Gateway builds for a request (payload 2.0). */
function authorizerEvent(event: APIGatewayProxyEventV2): APIGatewayRequestAuthorizerEventV2 {
  const { method } = event.requestContext.http;
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:us-east-1:000000000000:local/$default/${method}${event.rawPath}`,
    // The construct configures none (infra/rota-api.ts): the header comes in `headers`.
    identitySource: [],
    routeKey: event.routeKey,
    rawPath: event.rawPath,
    rawQueryString: event.rawQueryString,
    cookies: [],
    headers: event.headers,
    queryStringParameters: event.queryStringParameters,
    requestContext: event.requestContext,
  };
}

function send(res: ServerResponse, status: number, body: { code: string; message: string }) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'x-platform-error-code': body.code,
  });
  res.end(JSON.stringify(body));
}
