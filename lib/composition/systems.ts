import type { ApiServices, SystemServices } from '../systems/services';
import type { Rota } from './root';

/** The root's parts, as a system's routes and runner reach them. */
export const systemServices = (rota: Rota): SystemServices => ({ get: (part) => rota.get(part) });

/**
 * A system API's services: the root's parts, each built when a route table asks for
 * it, so the authorizations API never builds the task services; and the permission
 * resources of the registry it was deployed from.
 */
export function apiServices(rota: Rota, resources: ApiServices['resources']): ApiServices {
  return { ...systemServices(rota), resources };
}
