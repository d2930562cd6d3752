import * as z from 'zod';
import { ERROR_STATUS } from '../errors';

/** A system's contribution to the OpenAPI document. */
export interface ApiDoc {
  tag: string;
  schemas: Record<string, z.ZodType>;
  paths: Record<string, Record<string, unknown>>;
}

export const errorSchema = z.object({
  code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
  message: z.string(),
});

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const jsonBody = (name: string) => ({
  required: true,
  content: { 'application/json': { schema: ref(name) } },
});
export const errorResponses = {
  default: { description: 'An error', content: { 'application/json': { schema: ref('Error') } } },
};

/** OpenAPI 3.1 document built from the same zod schemas that validate requests. */
export function buildOpenApi(docs: readonly ApiDoc[]) {
  const schemas: Record<string, unknown> = { Error: z.toJSONSchema(errorSchema) };
  const paths: Record<string, Record<string, unknown>> = {
    '/health': { get: { summary: 'Liveness', responses: { 200: { description: '{"status":"pass"}' } } } },
  };
  for (const doc of docs) {
    for (const [name, schema] of Object.entries(doc.schemas)) {
      schemas[name] = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    }
    for (const [path, operations] of Object.entries(doc.paths)) {
      const tagged = Object.fromEntries(
        Object.entries(operations).map(([method, op]) => [method, { tags: [doc.tag], ...(op as object) }]),
      );
      paths[path] = { ...paths[path], ...tagged };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Rota',
      version: '0.1.0',
      description: 'Serverless task service with InfluxDB 2 compatible APIs',
    },
    components: {
      schemas,
      securitySchemes: { TokenAuth: { type: 'apiKey', in: 'header', name: 'Authorization' } },
    },
    paths,
  };
}

/** The usual CRUD operations of a system's resource, documented from its request schemas. */
export function crudPaths(basePath: string, what: string, createSchema: string, updateSchema: string) {
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const list = { name: 'orgID', in: 'query', required: false, schema: { type: 'string' } };
  return {
    [basePath]: {
      get: {
        summary: `List ${what}s`,
        parameters: [list],
        responses: { 200: { description: `${what}s` }, ...errorResponses },
      },
      post: {
        summary: `Create a ${what}`,
        requestBody: jsonBody(createSchema),
        responses: { 201: { description: `The ${what}` }, ...errorResponses },
      },
    },
    [`${basePath}/{id}`]: {
      get: {
        summary: `Get a ${what}`,
        parameters: [idParam],
        responses: { 200: { description: `The ${what}` }, ...errorResponses },
      },
      patch: {
        summary: `Update a ${what}`,
        parameters: [idParam],
        requestBody: jsonBody(updateSchema),
        responses: { 200: { description: `The ${what}` }, ...errorResponses },
      },
      delete: {
        summary: `Delete a ${what}`,
        parameters: [idParam],
        responses: { 204: { description: 'Deleted' }, ...errorResponses },
      },
    },
  };
}

/** The InfluxDB runs and logs routes every runnable system mounts under its base path. */
export function runPaths(basePath: string) {
  const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const runID = { name: 'runID', in: 'path', required: true, schema: { type: 'string' } };
  const ok = (description: string) => ({ 200: { description }, ...errorResponses });
  return {
    [`${basePath}/{id}/runs`]: {
      get: {
        summary: 'List runs, newest first (after, limit, afterTime, beforeTime)',
        parameters: [id],
        responses: ok('Runs'),
      },
      post: {
        summary: 'Run now, or at scheduledFor',
        parameters: [id],
        responses: { 201: { description: 'The run' }, ...errorResponses },
      },
    },
    [`${basePath}/{id}/runs/{runID}`]: {
      get: { summary: 'Get a run', parameters: [id, runID], responses: ok('The run') },
      delete: {
        summary: 'Cancel a run, queued or running',
        parameters: [id, runID],
        responses: { 204: { description: 'Canceled' }, ...errorResponses },
      },
    },
    [`${basePath}/{id}/runs/{runID}/retry`]: {
      post: { summary: 'Retry a finished run', parameters: [id, runID], responses: ok('The new run') },
    },
    [`${basePath}/{id}/runs/{runID}/logs`]: {
      get: { summary: 'Logs of a run', parameters: [id, runID], responses: ok('{events}') },
    },
    [`${basePath}/{id}/logs`]: {
      get: { summary: 'Logs of recent runs', parameters: [id], responses: ok('{events}') },
    },
  };
}
