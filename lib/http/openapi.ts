import * as z from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { ERROR_STATUS } from '../errors';
import { namedSchemas, type RouteContract } from './route';

/** One API's contribution to the document: its tag and its route table. */
export interface ApiDoc {
  readonly tag: string;
  readonly routes: readonly RouteContract[];
  /** Public routes need no token. @default false */
  readonly public?: boolean;
}

export const errorSchema = z.object({
  code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
  message: z.string(),
});

const json = (schema: z.ZodType, contentType = 'application/json') => ({ [contentType]: { schema } });

function pathParams(path: string) {
  const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  return names.length ? z.object(Object.fromEntries(names.map((n) => [n, z.string()]))) : undefined;
}

function operation(route: RouteContract, doc: ApiDoc): ZodOpenApiOperationObject {
  const path = pathParams(route.path);
  const responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, r]) => [
      status,
      { description: r.description, ...(r.schema ? { content: json(r.schema, r.contentType) } : {}) },
    ]),
  );
  return {
    tags: [doc.tag],
    summary: route.summary,
    ...(path || route.query || route.headers
      ? {
          requestParams: {
            ...(path ? { path } : {}),
            ...(route.query ? { query: route.query } : {}),
            ...(route.headers ? { header: route.headers } : {}),
          },
        }
      : {}),
    ...(route.body ? { requestBody: { required: true, content: json(route.body) } } : {}),
    responses: { ...responses, default: { description: 'An error', content: json(errorSchema) } },
    ...(doc.public ? { security: [] } : {}),
  };
}

/**
 * The OpenAPI 3.1 document, generated (zod-openapi) from the route tables: the same
 * zod schemas that validate each request, and the schemas of what each route answers.
 */
export function buildOpenApi(docs: readonly ApiDoc[]) {
  const paths: ZodOpenApiPathsObject = {};
  for (const doc of docs) {
    for (const route of doc.routes) {
      paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route, doc) };
    }
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Rota',
      version: '0.1.0',
      description: 'Serverless task service with InfluxDB 2 compatible APIs',
    },
    security: [{ TokenAuth: [] }],
    components: {
      schemas: { Error: errorSchema, ...namedSchemas() },
      securitySchemes: { TokenAuth: { type: 'apiKey', in: 'header', name: 'Authorization' } },
    },
    paths,
  });
}
