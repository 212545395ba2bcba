import { MetricUnit, Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type MetricName, type Metrics } from '../core/metrics';

/** CloudWatch metrics as Embedded Metric Format log lines: no API call, flushed at the end of each invocation. */
export class PowertoolsMetrics implements Metrics {
  readonly client = new PowertoolsMetricsClient({ namespace: METRICS_NAMESPACE, serviceName: 'replicate-jobs' });

  count(name: MetricName, value = 1, dimensions?: Record<string, string>): void {
    if (!dimensions) return void this.client.addMetric(name, MetricUnit.Count, value);
    const single = this.client.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit.Count, value);
  }
  milliseconds(name: MetricName, value: number): void {
    this.client.addMetric(name, MetricUnit.Milliseconds, value);
  }
  bytes(name: MetricName, value: number): void {
    this.client.addMetric(name, MetricUnit.Bytes, value);
  }
  flush(): void {
    // Publishing nothing would print Powertools' "No application metrics to publish" warning every invocation.
    if (this.client.hasStoredMetrics()) this.client.publishStoredMetrics();
  }
}

/**
 * The local stack's metrics: totals by name (and by name + dimensions), shown in its progress output and read by tests.
 */
export class MemoryMetrics implements Metrics {
  readonly totals = new Map<string, number>();
  private add(key: string, value: number) {
    this.totals.set(key, (this.totals.get(key) ?? 0) + value);
  }
  count(name: MetricName, value = 1, dimensions?: Record<string, string>): void {
    const suffix = dimensions
      ? Object.entries(dimensions)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')
      : '';
    this.add(suffix ? `${name}{${suffix}}` : name, value);
  }
  milliseconds(name: MetricName, value: number): void {
    this.add(name, value);
  }
  bytes(name: MetricName, value: number): void {
    this.add(name, value);
  }
  get(name: string): number {
    return this.totals.get(name) ?? 0;
  }
}
