import type { Method } from '@middy/http-router';
import * as z from 'zod';
import type { ApiRequest } from './request';
import type { ApiResponse } from './response';

/** One documented answer of a route: 204s have no body, so no schema. */
export interface RouteResponse {
  readonly description: string;
  readonly schema?: z.ZodType;
  /** @default application/json */
  readonly contentType?: string;
}

/**
 * A route's contract, next to its handler: what it accepts and what it answers. The
 * request schemas are the ones the handler validates with; the OpenAPI document is
 * generated from these, so it cannot drift from the code.
 */
export interface RouteContract {
  readonly method: Exclude<Method, 'ANY'>;
  /** API Gateway style: `/api/v2/tasks/{id}`. */
  readonly path: string;
  readonly summary: string;
  readonly query?: z.ZodObject;
  /** Request headers the route reads. */
  readonly headers?: z.ZodObject;
  readonly body?: z.ZodType;
  /** Every success status the route answers, each with its body's schema. */
  readonly responses: Readonly<Record<number, RouteResponse>>;
}

export interface RouteDef extends RouteContract {
  readonly handler: (req: ApiRequest) => Promise<ApiResponse>;
}

/**
 * One route of a route table, built over what the table's routes share (its services,
 * its base path). A table is a list of these, and its factory only assembles them.
 */
export type RouteOf<Context> = (context: Context) => RouteDef;

/** `{self, next?}` paging links. */
export const pageLinksSchema = z.object({ self: z.string(), next: z.string().optional() });

export const ok = (description: string, schema: z.ZodType) => ({ 200: { description, schema } });
export const created = (description: string, schema: z.ZodType) => ({ 201: { description, schema } });
export const deleted = { 204: { description: 'Deleted' } } as const;

const NAMES = new Map<string, z.ZodType>();

/**
 * Gives a schema its name in the OpenAPI document's components, where every use of it
 * becomes a `$ref`. Kept in a map of this module rather than zod's global registry, so
 * a module imported twice (tests reset modules) never claims a name twice.
 */
export function named<T extends z.ZodType>(name: string, schema: T): T {
  NAMES.set(name, schema);
  return schema;
}

/** Every named schema by its name; a name given again names the newer schema. */
export function namedSchemas(): Readonly<Record<string, z.ZodType>> {
  return Object.fromEntries(NAMES);
}
