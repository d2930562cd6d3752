import middy from '@middy/core';
import httpRouterHandler, { type Method } from '@middy/http-router';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError, toErrorBody } from '../errors';
import { logger } from '../observability/logger';
import { type ApiRequest, type RotaEvent, readBody, toApiRequest } from './request';
import { type ApiResponse, errorResponse } from './response';

export interface RouteDef {
  method: Exclude<Method, 'ANY'>;
  /** API Gateway style: `/api/v2/tasks/{id}`. */
  path: string;
  handler: (req: ApiRequest) => Promise<ApiResponse>;
}

/** Decides who the caller is; issue-specific auth plugs in here. */
export type Authenticate = (event: APIGatewayProxyEventV2) => Promise<ApiRequest['access']>;

export interface ApiHandlerOptions {
  authenticate?: Authenticate;
  /** The permission resource this API belongs to (`tasks`, `checks`, `notifications`, …). */
  resource?: string;
}

/**
 * Turns a system's route table into one Lambda handler. Cross-cutting work lives
 * in middleware: body decoding and limits before the route, and the single error
 * mapping after it. Routes are bare business logic.
 */
export function createApiHandler(routes: readonly RouteDef[], options: ApiHandlerOptions = {}) {
  const patterns = routes.map((route) => ({ method: route.method, regex: toRegex(route.path) }));
  const router = httpRouterHandler<APIGatewayProxyEventV2, ApiResponse>({
    routes: routes.map((route) => ({
      method: route.method,
      path: route.path,
      handler: (event: APIGatewayProxyEventV2) => route.handler(toApiRequest(event as RotaEvent)),
    })),
    notFoundResponse: ({ method, path }) => {
      if (patterns.some((p) => p.regex.test(path))) {
        throw new MethodNotAllowedError(`method ${method} is not allowed on ${path}`);
      }
      throw new NotFoundError(`path not found: ${path}`);
    },
  });

  return middy<APIGatewayProxyEventV2, ApiResponse, Error, Context>(router).use({
    before: async (request) => {
      const event = request.event as RotaEvent;
      const access = options.authenticate ? await options.authenticate(event) : {};
      event.rota = { body: readBody(event), access };
    },
    onError: async (request) => {
      const { status, body, exposed } = toErrorBody(request.error);
      if (!exposed) {
        logger.error('request failed', {
          error: request.error,
          method: request.event.requestContext?.http?.method,
          path: request.event.rawPath,
        });
      }
      request.response = errorResponse(status, body);
    },
  });
}

function toRegex(path: string): RegExp {
  const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^/}]+\}/g, '[^/]+');
  return new RegExp(`^${pattern}/?$`);
}
