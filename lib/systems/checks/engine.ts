import { targetPolicy } from '../../composition/core';
import { deploymentInflux } from '../../composition/engine';
import { secretBox } from '../../composition/secrets';
import type { RunnerServices } from '../services';
import { engine } from '../system';
import { checksSystem } from './definition';
import { statusStore } from './parts';
import { createCheckRunner } from './runner';
import { STATUS_STORE } from './table-uses';

/** Each run probes the check's URL or runs its Flux query, and records a status. Apart from the routes, which the executor's bundle does not hold. */
export const checksEngine = engine({
  source: import.meta.url,
  definition: checksSystem,
  runner: ({ get }: RunnerServices) =>
    createCheckRunner({
      statuses: get(statusStore),
      policy: get(targetPolicy),
      secrets: get(secretBox),
      influx: get(deploymentInflux),
    }),
  table: [STATUS_STORE.writes],
});
