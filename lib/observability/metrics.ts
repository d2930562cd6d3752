import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** EMF metrics: CloudWatch reads them from the log stream, so publishing costs no API call. */
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Rota',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'rota-executor',
});

/** How late a run started against its due time (startedAt − runAt). */
export function recordScheduleLag(lagMs: number): void {
  metrics.addMetric('ScheduleLag', MetricUnit.Milliseconds, Math.max(0, lagMs));
}

/** A due task the scheduler could not schedule this tick (it retries on the next). */
export function recordSchedulerTaskFailure(): void {
  metrics.addMetric('SchedulerTaskFailures', MetricUnit.Count, 1);
}

/** Open runs the reconciler sent again because they had stopped moving. */
export function recordReconciledRuns(count: number): void {
  metrics.addMetric('ReconciledRuns', MetricUnit.Count, count);
}
