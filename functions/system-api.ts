import { authRuntime } from '../lib/auth/runtime';
import { secretBox } from '../lib/auth/secret-box';
import { runtime } from '../lib/runtime';
import { systemApiEntry } from '../lib/systems/api-host';
import { SYSTEMS } from '../lib/systems/registry';

/**
 * Every registered system's HTTP API (lib/systems/registry.ts). The construct deploys
 * it once per API, as `rota-<name>-api`, each function with its own role; local mode
 * mounts it at every API's base path.
 */
export const handler = systemApiEntry(SYSTEMS, {
  runtime,
  secrets: secretBox,
  authStore: () => authRuntime().store,
  resources: SYSTEMS.resources,
});
