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
