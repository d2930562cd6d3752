import { SYSTEMS } from '../lib/systems/registry';
import { systemApiEntry } from './definitions/system-api';

/**
 * Every registered system's HTTP API (lib/systems/registry.ts). The construct deploys
 * it once per API, as `rota-<name>-api`, each function with its own role; the
 * configuration is the environment, parsed once at cold start against the API's needs.
 */
export const handler = systemApiEntry(SYSTEMS, process.env);
