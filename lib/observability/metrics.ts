import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The engine's EMF metrics: CloudWatch reads them from the log stream, so publishing costs no API call. */
export interface RunMetrics {
  /** How late a run started against its due time (startedAt − runAt). */
  scheduleLag(lagMs: number): void;
  /** A due task the scheduler could not schedule this tick (it retries on the next). */
  schedulerTaskFailure(): void;
  /** Open runs the reconciler sent again because they had stopped moving. */
  reconciledRuns(count: number): void;
  /** Writes what this invocation recorded, if anything (an idle batch records nothing). */
  publish(): void;
}

/**
 * Built by the composition root. Namespace and service name are Powertools' own
 * variables, set by the construct; `enabled` comes from the root's configuration, so
 * local mode turns the EMF lines off without touching process.env.
 */
export function createRunMetrics(options: { enabled: boolean }): RunMetrics {
  if (!options.enabled) {
    const off = () => {};
    return { scheduleLag: off, schedulerTaskFailure: off, reconciledRuns: off, publish: off };
  }
  const metrics = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Rota',
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'rota-executor',
  });
  return {
    scheduleLag: (lagMs) => metrics.addMetric('ScheduleLag', MetricUnit.Milliseconds, Math.max(0, lagMs)),
    schedulerTaskFailure: () => metrics.addMetric('SchedulerTaskFailures', MetricUnit.Count, 1),
    reconciledRuns: (count) => metrics.addMetric('ReconciledRuns', MetricUnit.Count, count),
    publish: () => {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}
