import type { HttpHandler } from './http-adapter';

/** Loads a function's handler from its TypeScript entry (the default) or from its bundle. */
export type HandlerLoader = (name: string) => Promise<unknown>;

/**
 * Which function serves which path prefix: the local twin of the HTTP API's route
 * groups in infra/task-service.ts, by the construct's function names.
 */
export const API_MOUNTS: readonly { prefix: string; fn: string }[] = [
  { prefix: '/api/v2/tasks', fn: 'tasks-api' },
  { prefix: '/api/v2/checks', fn: 'checks-api' },
  { prefix: '/api/v2/notificationRules', fn: 'notification-rules-api' },
  { prefix: '/api/v2/notificationEndpoints', fn: 'notification-endpoints-api' },
  { prefix: '/api/v2/authorizations', fn: 'authorizations-api' },
  { prefix: '/api/v2/openapi.json', fn: 'meta-api' },
  { prefix: '/health', fn: 'meta-api' },
];

/**
 * Every function's TypeScript entry. Handlers load lazily, after local mode has set the
 * environment they read at cold start.
 */
export const FUNCTION_SOURCES: Readonly<Record<string, () => Promise<{ handler: unknown }>>> = {
  'tasks-api': () => import('../functions/tasks-api'),
  'checks-api': () => import('../functions/checks-api'),
  'notification-rules-api': () => import('../functions/notification-rules-api'),
  'notification-endpoints-api': () => import('../functions/notification-endpoints-api'),
  'authorizations-api': () => import('../functions/authorizations-api'),
  'meta-api': () => import('../functions/meta-api'),
  authorizer: () => import('../functions/authorizer'),
  scheduler: () => import('../functions/scheduler'),
  executor: () => import('../functions/executor'),
  'dead-letter': () => import('../functions/dead-letter'),
  reconciler: () => import('../functions/reconciler'),
};

export type { HttpHandler };
