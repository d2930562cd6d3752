import { runRoutes } from '../../http/run-routes';
import { type ApiServices, MANAGES_TASKS, type RunnerServices } from '../services';
import { defineSystemModule, engine } from '../system';
import { checksSystem } from './definition';
import { CHECKS_BASE_PATH, checkRoutes } from './http';
import { createCheckRunner } from './runner';
import { STATUS_STORE } from './status-store';

/** Monitoring checks, one task per check: each run probes a URL and records a status. */
export const checksModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'checks',
  apis: [
    {
      name: 'checks-api',
      basePath: CHECKS_BASE_PATH,
      resource: 'checks',
      tag: 'Checks',
      table: [...MANAGES_TASKS, STATUS_STORE.reads],
      enqueue: true,
      sealsSecrets: true,
      needs: ['table', 'runsQueue', 'secretsKey'],
      routes: ({ core, secrets }) => {
        const { taskService, runService, statuses, targetPolicy } = core();
        const checks = taskService.forSystem(checksSystem);
        return [
          ...checkRoutes(checks, statuses, targetPolicy, secrets()),
          ...runRoutes(CHECKS_BASE_PATH, runService.forSystem(checks)),
        ];
      },
    },
  ],
  engine: engine(
    checksSystem,
    (rt) => createCheckRunner({ statuses: rt.statuses, policy: rt.targetPolicy, secrets: rt.secrets }),
    [STATUS_STORE.writes],
  ),
});
