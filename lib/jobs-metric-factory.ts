import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { JOB_ERROR_CODES } from '../lambdas/core/errors';
import { METRIC, METRICS_NAMESPACE, type MetricName, SERVICE_DIMENSION } from '../lambdas/core/metrics';

/** What the metrics are read from: the construct's own resources. */
export interface JobsMetricFactoryProps {
  readonly api: apigateway.RestApiBase;
  readonly functions: Record<string, lambda.IFunction>;
  readonly table: dynamodb.ITable;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly callbackQueue: sqs.IQueue;
  readonly callbackDeadLetterQueue: sqs.IQueue;
}

/**
 * Every metric the dashboard shows and the alarms watch, made in one place: an alarm watches exactly the line a
 * reader sees on the dashboard. Each method takes CloudWatch's `MetricOptions` to change the period or
 * statistic (the alarms evaluate over 5 minutes); without them it gives what the dashboard shows: 1-minute
 * periods, sums for counts, maxima for queue gauges.
 */
export class JobsMetricFactory {
  /** The dashboard's period, and the default of every metric here. */
  static readonly PERIOD = Duration.minutes(1);

  constructor(private readonly props: JobsMetricFactoryProps) {}

  /** One of the functions' own metrics (EMF, namespace `ReplicateJobs`), by the name the functions emit. */
  metricJob(name: MetricName, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      statistic: cloudwatch.Stats.SUM,
      period: JobsMetricFactory.PERIOD,
      ...options,
      dimensionsMap: { ...SERVICE_DIMENSION, ...options.dimensionsMap },
    });
  }

  /** Jobs accepted by `POST /jobs` (sum). */
  metricJobsSubmitted(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.jobsSubmitted, options);
  }

  /** Jobs that ended `succeeded` (sum). */
  metricJobsSucceeded(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.jobsSucceeded, options);
  }

  /** Jobs that ended `failed`, whatever their error code (sum). */
  metricJobsFailed(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.jobsFailed, options);
  }

  /** Failed jobs, one line per error code (the codes are a closed list), each labelled with its code. */
  metricJobsFailedByCode(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric[] {
    return JOB_ERROR_CODES.map((code) =>
      this.metricJob(METRIC.jobsFailed, { ...options, dimensionsMap: { code }, label: code }),
    );
  }

  /** Jobs canceled by their owner (sum). */
  metricJobsCanceled(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.jobsCanceled, options);
  }

  /** Jobs failed with `timeout` by the reconciler (sum). */
  metricJobsTimedOut(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.jobsTimedOut, options);
  }

  /** Jobs waiting for capacity at Replicate, as the reconciler counted them (maximum per period). */
  metricAdmissionBacklog(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.admissionBacklog, this.gauge(options));
  }

  /** How long the oldest waiting job has waited, in milliseconds (maximum per period). */
  metricAdmissionOldestWait(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.admissionOldestWait, this.gauge(options));
  }

  /** Creates Replicate answered 429 (each job went back to wait). */
  metricAdmissionThrottled(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.admissionThrottled, options);
  }

  /** Milliseconds from submit to the job's end; give a percentile statistic (`p50`, `p99`). */
  metricJobDuration(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.jobDuration, options);
  }

  /** Bytes of output files stored (sum). */
  metricOutputBytes(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.outputBytes, options);
  }

  /** Webhooks refused for a bad signature (sum). */
  metricWebhooksRejected(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.webhookRejected, options);
  }

  /** Webhooks refused because the signing secret setting is unset or malformed (sum). */
  metricWebhookSecretInvalid(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.webhookSecretInvalid, options);
  }

  /** Jobs the reconciler advanced because their webhook never came (sum). */
  metricReconciled(options?: cloudwatch.MetricOptions) {
    return this.metricJob(METRIC.reconciled, options);
  }

  /** Webhook events waiting for the consumer (maximum of the visible messages). */
  metricQueueBacklog(options?: cloudwatch.MetricOptions) {
    return this.props.queue.metricApproximateNumberOfMessagesVisible(this.gauge(options));
  }

  /** Webhook events being processed (maximum of the messages received and not yet deleted). */
  metricQueueInFlight(options?: cloudwatch.MetricOptions) {
    return this.props.queue.metricApproximateNumberOfMessagesNotVisible(this.gauge(options));
  }

  /** Age in seconds of the oldest webhook event not yet processed (maximum). */
  metricOldestMessageAge(options?: cloudwatch.MetricOptions) {
    return this.props.queue.metricApproximateAgeOfOldestMessage(this.gauge(options));
  }

  /** Events the consumer gave up on, in the dead-letter queue (maximum of the visible messages). */
  metricDeadLetters(options?: cloudwatch.MetricOptions) {
    return this.props.deadLetterQueue.metricApproximateNumberOfMessagesVisible(this.gauge(options));
  }

  /** Client callbacks waiting to be delivered (maximum of the visible messages). */
  metricCallbackBacklog(options?: cloudwatch.MetricOptions) {
    return this.props.callbackQueue.metricApproximateNumberOfMessagesVisible(this.gauge(options));
  }

  /** Client callbacks being delivered or waiting out a backoff (maximum of the messages not visible). */
  metricCallbacksInFlight(options?: cloudwatch.MetricOptions) {
    return this.props.callbackQueue.metricApproximateNumberOfMessagesNotVisible(this.gauge(options));
  }

  /** Age in seconds of the oldest client callback not yet delivered (maximum). */
  metricOldestCallbackAge(options?: cloudwatch.MetricOptions) {
    return this.props.callbackQueue.metricApproximateAgeOfOldestMessage(this.gauge(options));
  }

  /** Client callbacks that ran out of attempts, in their dead-letter queue (maximum of the visible messages). */
  metricCallbackDeadLetters(options?: cloudwatch.MetricOptions) {
    return this.props.callbackDeadLetterQueue.metricApproximateNumberOfMessagesVisible(this.gauge(options));
  }

  /** One metric per function, labelled with the function's name: what `perFunction` dashboard widgets draw. */
  metricPerFunction(metric: (fn: lambda.IFunction) => cloudwatch.IMetric): cloudwatch.IMetric[] {
    return Object.entries(this.props.functions).map(([name, fn]) => withLabel(metric(fn), name));
  }

  /** Errors of one function (sum). */
  metricFunctionErrors(name: string, options?: cloudwatch.MetricOptions) {
    return this.fn(name).metricErrors(this.sum(options));
  }

  /** Throttled invocations of one function (sum). */
  metricFunctionThrottles(name: string, options?: cloudwatch.MetricOptions) {
    return this.fn(name).metricThrottles(this.sum(options));
  }

  /** API requests (sum). */
  metricApiRequests(options?: cloudwatch.MetricOptions) {
    return this.props.api.metricCount(this.sum(options));
  }

  /** API answers 4xx (sum). */
  metricApiClientErrors(options?: cloudwatch.MetricOptions) {
    return this.props.api.metricClientError(this.sum(options));
  }

  /** API answers 5xx (sum). */
  metricApiServerErrors(options?: cloudwatch.MetricOptions) {
    return this.props.api.metricServerError(this.sum(options));
  }

  /** API latency; give a percentile statistic (`p50`, `p99`). */
  metricApiLatency(options?: cloudwatch.MetricOptions) {
    return this.props.api.metricLatency({ period: JobsMetricFactory.PERIOD, ...options });
  }

  /**
   * Percentage of API requests answered 5xx, 0 while fewer than `minimumRequests` came in the period (a single
   * failure among three requests is not an outage).
   */
  metricApiServerErrorRate(options: { period?: Duration; minimumRequests?: number } = {}): cloudwatch.IMetric {
    const period = options.period ?? JobsMetricFactory.PERIOD;
    return new cloudwatch.MathExpression({
      expression: `IF(requests >= ${options.minimumRequests ?? 20}, 100 * errors / requests, 0)`,
      usingMetrics: { errors: this.metricApiServerErrors({ period }), requests: this.metricApiRequests({ period }) },
      period,
      label: 'API 5xx rate (%)',
    });
  }

  /** Read capacity the jobs table consumed (sum). */
  metricTableReadCapacity(options?: cloudwatch.MetricOptions) {
    return this.props.table.metricConsumedReadCapacityUnits(this.sum(options));
  }

  /** Write capacity the jobs table consumed (sum). */
  metricTableWriteCapacity(options?: cloudwatch.MetricOptions) {
    return this.props.table.metricConsumedWriteCapacityUnits(this.sum(options));
  }

  /**
   * Requests the jobs table throttled, all operations together (sum). No `operations` list: CDK then sums every
   * operation (an empty list, as the dashboard passed before, drew an empty expression).
   */
  metricTableThrottles(options?: cloudwatch.MetricOptions) {
    return this.props.table.metricThrottledRequestsForOperations(this.sum(options));
  }

  /** Conditional writes refused: the named conditions doing their job (duplicates, races), not errors (sum). */
  metricTableConditionalCheckFailures(options?: cloudwatch.MetricOptions) {
    return this.props.table.metric('ConditionalCheckFailedRequests', this.sum(options));
  }

  private fn(name: string): lambda.IFunction {
    const fn = this.props.functions[name];
    if (!fn) throw new Error(`No function named ${name}: ${Object.keys(this.props.functions).join(', ')}`);
    return fn;
  }

  private sum(options: cloudwatch.MetricOptions = {}): cloudwatch.MetricOptions {
    return { period: JobsMetricFactory.PERIOD, statistic: cloudwatch.Stats.SUM, ...options };
  }

  /** A queue's gauges are sampled; their maximum is the value that matters (the worst moment). */
  private gauge(options: cloudwatch.MetricOptions = {}): cloudwatch.MetricOptions {
    return { period: JobsMetricFactory.PERIOD, statistic: cloudwatch.Stats.MAXIMUM, ...options };
  }
}

function withLabel(metric: cloudwatch.IMetric, label: string): cloudwatch.IMetric {
  return metric instanceof cloudwatch.Metric ? metric.with({ label }) : metric;
}
