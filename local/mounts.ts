import type { HttpHandler } from './http-adapter';

/**
 * Which function serves which path prefix: the local twin of the HTTP API's route
 * groups in infra/task-service.ts. Handlers load lazily, after local mode has set
 * the environment they read at cold start.
 */
export const API_MOUNTS: readonly { prefix: string; load: () => Promise<{ handler: HttpHandler }> }[] = [
  { prefix: '/api/v2/tasks', load: () => import('../functions/tasks-api') },
  { prefix: '/api/v2/checks', load: () => import('../functions/checks-api') },
  { prefix: '/api/v2/notificationRules', load: () => import('../functions/notification-rules-api') },
  { prefix: '/api/v2/notificationEndpoints', load: () => import('../functions/notification-endpoints-api') },
  { prefix: '/api/v2/authorizations', load: () => import('../functions/authorizations-api') },
  { prefix: '/api/v2/openapi.json', load: () => import('../functions/meta-api') },
  { prefix: '/health', load: () => import('../functions/meta-api') },
];
