import { createRunMetrics, type RunMetrics } from '../observability/metrics';
import type { Part } from './root';

/** EMF metrics, unless the configuration turns them off (local mode does). */
export const runMetrics: Part<RunMetrics> = (rota) =>
  createRunMetrics({ enabled: !rota.config.POWERTOOLS_METRICS_DISABLED });
