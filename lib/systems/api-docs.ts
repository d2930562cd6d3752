import { EVENTS_ROUTE } from '../http/events-route';
import { META_ROUTES } from '../http/meta-routes';
import { type ApiDoc, buildOpenApi } from '../http/openapi';
import type { SystemRegistry } from './registry';
import type { ApiServices } from './services';

/**
 * Stands in for every part while a route table is built for its documentation: any
 * property or call gives it back, and nothing reaches AWS, because route handlers only
 * run on requests and the document never makes one. So the document describes the
 * very tables the system APIs serve, without their configuration or roles.
 */
const inert: unknown = new Proxy(() => inert, {
  get: (_target, key) => (key === 'then' ? undefined : inert),
  apply: () => inert,
});

const inertServices = (registry: SystemRegistry): ApiServices => ({
  get: <T>() => inert as T,
  resources: registry.resources,
});

/** Every registered API's route table, with its tag, for the OpenAPI document. */
export function systemApiDocs(registry: SystemRegistry): ApiDoc[] {
  const services = inertServices(registry);
  return registry.apis.map((api) => ({ tag: api.tag, routes: api.routes(services) }));
}

/**
 * The OpenAPI document of `registry`'s APIs and the meta API's own routes. The
 * construct writes it beside the meta-api bundle when it builds it, so that bundle
 * serves it without any system's code, zod-openapi or cron library in it; local mode builds
 * the same document from its sources when it loads the meta API (local/mounts.ts).
 */
export function openApiDocument(registry: SystemRegistry) {
  return buildOpenApi([
    ...systemApiDocs(registry),
    { tag: 'Events', routes: [EVENTS_ROUTE] },
    { tag: 'Meta', routes: META_ROUTES, public: true },
  ]);
}
