import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { JOB_ERROR_CODES } from '../lambdas/core/errors';
import { METRIC, METRICS_NAMESPACE, SERVICE_DIMENSION, type MetricName } from '../lambdas/core/metrics';

/** The functions' own metrics (EMF, namespace ReplicateJobs), by the names the functions emit them under. */
export function jobMetric(name: MetricName, options: { statistic?: string; dimensions?: Record<string, string>; period?: Duration } = {}) {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { ...SERVICE_DIMENSION, ...options.dimensions },
    statistic: options.statistic ?? cloudwatch.Stats.SUM,
    period: options.period ?? Duration.minutes(1),
  });
}

/** Failures by job error code: one line per code, since the codes are a closed list. */
export const failuresByCode = (period?: Duration) =>
  JOB_ERROR_CODES.map((code) => jobMetric(METRIC.jobsFailed, { dimensions: { code }, period }).with({ label: code }));
