import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import type { Caller } from '../auth/model';
import { EmptyValueError, InvalidError, RequestTooLargeError } from '../errors';
import type { Access } from '../task/task-service';
import { parseOrThrow } from '../validation';

export const MAX_BODY_BYTES = 1024 * 1024;

/** The parts of an API Gateway v2 event a route works with, already decoded. */
export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** The parsed JSON body; undefined when the request had none. */
  body: unknown;
  /** The org scope every TaskService call takes; `{}` is the operator. */
  access: Access;
  /** Who called and what they may do; undefined on public routes (no `resource`). */
  caller?: Caller | undefined;
}

export type RotaEvent = APIGatewayProxyEventV2 & {
  rota?: { body: unknown; access: Access; caller?: Caller | undefined };
};

export function readBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) {
    throw new RequestTooLargeError(`request body is ${raw.byteLength} bytes; the limit is ${MAX_BODY_BYTES}`);
  }
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim())) {
    throw new InvalidError(`content-type must be application/json, got "${contentType || 'none'}"`);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new InvalidError('failed to decode request body', {
      cause: new InvalidError((error as Error).message),
    });
  }
  checkJsonShape(body);
  return body;
}

/** DynamoDB nests maps and lists at most 32 levels deep; a request body nests no deeper (its top object counts). */
export const MAX_JSON_DEPTH = 32;
/**
 * Keys that mean something to JavaScript objects rather than to Rota: `__proto__`
 * would set a prototype when copied, and `constructor` makes the DynamoDB marshaller
 * take a plain object for a class instance.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor']);

/**
 * Refuses, with a 400 naming the place, a body nested deeper than DynamoDB stores or
 * holding a forbidden key, anywhere in it. Walked with an explicit stack, so no body
 * can overflow the call stack here, and nothing deeper reaches the store or emulator.
 */
function checkJsonShape(body: unknown): void {
  const stack: { value: unknown; path: readonly string[] }[] = [{ value: body, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_JSON_DEPTH) {
      throw new InvalidError(
        `request body is nested deeper than ${MAX_JSON_DEPTH} levels at ${shownPath(path)}; DynamoDB stores at most ${MAX_JSON_DEPTH}`,
      );
    }
    for (const [key, child] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) {
        throw new InvalidError(
          `${shownPath([...path, key])}: the key "${key}" is not allowed in a request body`,
        );
      }
      stack.push({ value: child, path: [...path, key] });
    }
  }
}

/** `target.body.a.a`: a path (at most 33 keys), each key cut short, so a message stays readable. */
function shownPath(path: readonly string[]): string {
  return path.map((key) => (key.length > 40 ? `${key.slice(0, 40)}…` : key)).join('.');
}

export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

export function toApiRequest(event: RotaEvent): ApiRequest {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[key.toLowerCase()] = value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[key] = value;
  }
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.pathParameters ?? {})) {
    if (value !== undefined) params[key] = decodePathParam(key, value);
  }
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    params,
    query,
    headers,
    body: event.rota?.body,
    access: event.rota?.access ?? {},
    caller: event.rota?.caller,
  };
}

function decodePathParam(name: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // A stray `%` is the client's mistake, not a server fault.
    throw new InvalidError(`path parameter ${name} is not valid percent-encoding`);
  }
}

/** Parses a required JSON body against a schema. */
export function bodyOf<S extends z.ZodType>(req: ApiRequest, schema: S, context: string): z.output<S> {
  if (req.body === undefined) throw new EmptyValueError('request body is required');
  return parseOrThrow(schema, req.body, context);
}

export function queryOf<S extends z.ZodType>(req: ApiRequest, schema: S): z.output<S> {
  return parseOrThrow(schema, req.query, 'invalid query');
}

/** IDs are far shorter; the cap keeps a path parameter inside DynamoDB's key size limits. */
const MAX_PARAM_LENGTH = 256;

export function param(req: ApiRequest, name: string): string {
  const value = req.params[name];
  if (!value) throw new InvalidError(`path parameter ${name} is required`);
  if (value.length > MAX_PARAM_LENGTH) {
    throw new InvalidError(`path parameter ${name} is longer than ${MAX_PARAM_LENGTH} characters`);
  }
  return value;
}
