import type { SystemRegistry } from '../systems/registry';
import type { ApiServices, CoreServices } from '../systems/services';
import { authStore } from './auth';
import { runService, secretBox, systemStores, targetPolicy, taskService } from './core';
import type { Part, Rota } from './root';

/** What a system's routes and runner share: the core's services and the systems' stores. */
export const coreServices: Part<CoreServices> = (rota) => ({
  taskService: rota.get(taskService),
  runService: rota.get(runService),
  targetPolicy: rota.get(targetPolicy),
  ...rota.get(systemStores),
});

/**
 * A system API's services, from the root's parts: each built when a route table asks
 * for it, so the authorizations API never builds the task services.
 */
export function apiServices(rota: Rota, registry: SystemRegistry): ApiServices {
  return {
    core: () => rota.get(coreServices),
    secrets: () => rota.get(secretBox),
    authStore: () => rota.get(authStore),
    resources: registry.resources,
  };
}
