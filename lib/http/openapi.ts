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
export const jsonResponse = (description: string, name: string) => ({
  description,
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
