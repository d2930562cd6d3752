import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { callerFromContext } from '../auth/authorizer';
import type { AuthMode } from '../auth/config';
import { type Action, type Caller, can, OPERATOR_CALLER, type ResourceType } from '../auth/model';
import {
  ForbiddenError,
  MethodNotAllowedError,
  NotFoundError,
  toErrorBody,
  UnauthorizedError,
} from '../errors';
import { logger } from '../observability/logger';
import { type RotaEvent, readBody, toApiRequest } from './request';
import { type ApiResponse, errorResponse } from './response';
import type { RouteDef } from './route';

export type { RouteDef };

/** What the router needs of a route; system modules always give the whole documented `RouteDef`. */
export type HandledRoute = Pick<RouteDef, 'method' | 'path' | 'handler'>;

/** Decides who the caller is; throw `UnauthorizedError` to refuse. */
export type Authenticate = (event: APIGatewayProxyEventV2) => Promise<Caller>;

export interface ApiHandlerOptions {
  /**
   * Replaces the default, which reads the caller from the event: the token
   * authorizer's context (`requestContext.authorizer.lambda`, set by API Gateway or
   * by local mode's adapter), or an IAM-authorized request (the operator).
   */
  authenticate?: Authenticate;
  /**
   * The permission resource this API belongs to (`tasks`, `checks`, `notificationRules`,
   * `authorizations`). With it, every request needs a caller, and the caller needs
   * `read` on it for GET and HEAD and `write` for everything else. Without it (and
   * without `authenticate`) the routes are public: only documents and probes.
   */
  resource?: ResourceType;
  /** The configuration's ROTA_AUTH_MODE (the API entries pass it). @default `token` */
  authMode?: AuthMode;
}

type AuthorizedEvent = APIGatewayProxyEventV2 & {
  requestContext: { authorizer?: { lambda?: unknown; iam?: unknown } };
};

function identify(
  event: AuthorizedEvent,
  options: ApiHandlerOptions,
): Promise<Caller | undefined> | Caller | undefined {
  if (options.authenticate) return options.authenticate(event);
  const authorizer = event.requestContext.authorizer;
  // A token context is honoured even on routes without a resource, so a token never acts beyond its org.
  if (authorizer?.lambda !== undefined) return callerFromContext(authorizer.lambda);
  // API Gateway verified the SigV4 signature: trusted services act as the operator.
  if (authorizer?.iam !== undefined) return OPERATOR_CALLER;
  if (options.resource === undefined) return undefined;
  if ((options.authMode ?? 'token') === 'none') return OPERATOR_CALLER;
  throw new UnauthorizedError();
}

const actionOf = (method: string): Action => (method === 'GET' || method === 'HEAD' ? 'read' : 'write');

/**
 * Turns a system's route table into one Lambda handler. Cross-cutting work lives
 * in middleware: body decoding and limits before the route, and the single error
 * mapping after it. Routes are bare business logic.
 */
export function createApiHandler(routes: readonly HandledRoute[], options: ApiHandlerOptions = {}) {
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
      // Who calls is settled before the body is read: a stranger learns nothing from validation errors.
      const caller = await identify(event as AuthorizedEvent, options);
      if (caller && options.resource) {
        const action = actionOf(event.requestContext.http.method.toUpperCase());
        if (!can(caller, action, options.resource)) {
          throw new ForbiddenError(`token lacks ${action} permission on ${options.resource}`);
        }
      }
      const access = caller?.orgID === undefined ? {} : { orgID: caller.orgID };
      event.rota = { body: readBody(event), access, caller };
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
