import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * The counters a handler records (CloudWatch EMF through Powertools Metrics in Lambda). A port,
 * so the local runtime and tests can leave metrics out or count them in memory.
 */
export interface Counters {
  count(name: string, value?: number): void;
  /** Writes the buffered metrics (once per invocation). */
  flush(): void;
}

/** Counters that go nowhere. */
export const noCounters: Counters = { count() {}, flush() {} };

/** Powertools Metrics in the `Taskwire` namespace. */
export function powertoolsCounters(): Counters {
  const metrics = new Metrics({
    namespace: 'Taskwire',
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'taskwire',
  });
  return {
    count: (name, value = 1) => void metrics.addMetric(name, MetricUnit.Count, value),
    flush: () => metrics.publishStoredMetrics(),
  };
}
