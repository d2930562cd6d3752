import * as z from 'zod';
import type { RouteContract } from './route';

/** The meta API's own routes: public, served without an authorizer. */
export const META_ROUTES = [
  {
    method: 'GET',
    path: '/health',
    summary: 'Liveness',
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('pass') }) } },
  },
  {
    method: 'GET',
    path: '/api/v2/openapi.json',
    summary: 'This document',
    responses: {
      200: { description: 'The OpenAPI 3.1 document', schema: z.looseObject({ openapi: z.string() }) },
    },
  },
] as const satisfies readonly RouteContract[];

/**
 * The OpenAPI document's name beside the meta-api bundle: the construct and
 * scripts/bundle.ts write it there (`openApiDocument` of the registry they deploy).
 */
export const OPENAPI_FILE = 'openapi.json';
