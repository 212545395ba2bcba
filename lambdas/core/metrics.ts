/**
 * Metric names live here alone: the functions emit them and the CDK dashboard and alarms read them, so a
 * renamed metric cannot leave a dashboard widget silently empty.
 */
export const METRICS_NAMESPACE = 'ReplicateJobs';
export const SERVICE_DIMENSION = { service: 'replicate-jobs' } as const;

export const METRIC = {
  jobsSubmitted: 'JobsSubmitted',
  jobsSucceeded: 'JobsSucceeded',
  /** Emitted with a `code` dimension (the job's error code) as well as without. */
  jobsFailed: 'JobsFailed',
  jobsCanceled: 'JobsCanceled',
  jobsTimedOut: 'JobsTimedOut',
  jobDuration: 'JobDuration',
  outputBytes: 'OutputBytes',
  webhookRejected: 'WebhookRejected',
  /** A webhook refused because the signing secret setting is unset or malformed (the operator's to fix). */
  webhookSecretInvalid: 'WebhookSecretInvalid',
  reconciled: 'Reconciled',
  /** Jobs waiting for capacity at Replicate, counted by the reconciler each run (read its Maximum). */
  admissionBacklog: 'AdmissionBacklog',
  /** How long the oldest waiting job has waited, in milliseconds, from the same count. */
  admissionOldestWait: 'AdmissionOldestWait',
  /** Creates Replicate answered 429 (the job went back to wait). */
  admissionThrottled: 'AdmissionThrottled',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** What handlers emit; Powertools Metrics (EMF) in AWS, an in-memory tally locally. */
export interface Metrics {
  count(name: MetricName, value?: number, dimensions?: Record<string, string>): void;
  milliseconds(name: MetricName, value: number): void;
  bytes(name: MetricName, value: number): void;
}

/** Emits the metrics of a job that has just ended: one place, whichever path ended it. */
export function recordJobEnd(
  metrics: Metrics,
  job: {
    status: string;
    error: { code: string } | null;
    createdAt: string;
    completedAt?: string;
    outputs: Array<{ size: number }>;
  },
): void {
  if (job.status === 'succeeded') {
    metrics.count(METRIC.jobsSucceeded);
    metrics.bytes(
      METRIC.outputBytes,
      job.outputs.reduce((sum, output) => sum + output.size, 0),
    );
  } else if (job.status === 'canceled') {
    metrics.count(METRIC.jobsCanceled);
  } else if (job.status === 'failed') {
    metrics.count(METRIC.jobsFailed);
    metrics.count(METRIC.jobsFailed, 1, { code: job.error?.code ?? 'unknown' });
  }
  const duration = Date.parse(job.completedAt ?? '') - Date.parse(job.createdAt);
  if (Number.isFinite(duration) && duration >= 0) metrics.milliseconds(METRIC.jobDuration, duration);
}
