import type { FunctionDefinition } from '../lib/composition/function';
import type { HttpHandler } from './http-adapter';

/** Loads a function's handler, built from local mode's root (the default) or run from its bundle. */
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
 * Every function's definition (functions/definitions/*.ts), which local mode builds from
 * its own composition root. Loaded on first use: with `--bundles` none is needed.
 */
export const FUNCTION_DEFINITIONS: Readonly<Record<string, () => Promise<FunctionDefinition>>> = {
  'tasks-api': async () => (await import('../functions/definitions/tasks-api')).tasksApi,
  'checks-api': async () => (await import('../functions/definitions/checks-api')).checksApi,
  'notification-rules-api': async () =>
    (await import('../functions/definitions/notification-rules-api')).notificationRulesApi,
  'notification-endpoints-api': async () =>
    (await import('../functions/definitions/notification-endpoints-api')).notificationEndpointsApi,
  'authorizations-api': async () =>
    (await import('../functions/definitions/authorizations-api')).authorizationsApi,
  'meta-api': async () => (await import('../functions/definitions/meta-api')).metaApi,
  authorizer: async () => (await import('../functions/definitions/authorizer')).authorizer,
  scheduler: async () => (await import('../functions/definitions/scheduler')).scheduler,
  executor: async () => (await import('../functions/definitions/executor')).executor,
  'dead-letter': async () => (await import('../functions/definitions/dead-letter')).deadLetter,
  reconciler: async () => (await import('../functions/definitions/reconciler')).reconciler,
};

export type { HttpHandler };
