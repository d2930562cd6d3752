import { PUBLIC_GET_PATHS } from '../lib/auth/model';
import { SYSTEMS, type SystemRegistry } from '../lib/systems/registry';
import type { HttpHandler } from './http-adapter';

/** Loads a function's handler from its TypeScript entry (the default) or from its bundle. */
export type HandlerLoader = (name: string) => Promise<unknown>;

/**
 * Which function serves which path prefix: the local twin of the HTTP API's routes in
 * the construct, derived from the same system registry, by the construct's names.
 */
export function apiMounts(registry: SystemRegistry = SYSTEMS): readonly { prefix: string; fn: string }[] {
  return [
    ...registry.apis.map((api) => ({ prefix: api.basePath, fn: api.name })),
    ...PUBLIC_GET_PATHS.map((prefix) => ({ prefix, fn: 'meta-api' })),
  ];
}

export const API_MOUNTS = apiMounts();

const systemApi = () => import('../functions/system-api');

/**
 * Every function's TypeScript entry. Handlers load lazily, after local mode has set the
 * environment they read at cold start. Every system API is the one generic entry.
 */
export const FUNCTION_SOURCES: Readonly<Record<string, () => Promise<{ handler: unknown }>>> = {
  ...Object.fromEntries(SYSTEMS.apis.map((api) => [api.name, systemApi])),
  'meta-api': () => import('../functions/meta-api'),
  authorizer: () => import('../functions/authorizer'),
  scheduler: () => import('../functions/scheduler'),
  executor: () => import('../functions/executor'),
  'dead-letter': () => import('../functions/dead-letter'),
  reconciler: () => import('../functions/reconciler'),
};

export type { HttpHandler };
