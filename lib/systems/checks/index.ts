import type { ApiServices, RunnerServices } from '../services';
import { defineSystemModule } from '../system';
import { checksApi } from './api';
import { checksEngine } from './engine';

/** Monitoring checks, one task per check: each run probes a URL and records a status. */
export const checksModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'checks',
  apis: [checksApi],
  engine: checksEngine,
});
