import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, type MetricName } from '../lambdas/core/metrics';
import { failuresByCode, jobMetric } from './job-metrics';

export interface JobsDashboardProps {
  readonly api: apigateway.RestApi;
  readonly functions: Record<string, lambda.IFunction>;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly table: dynamodb.ITable;
}

/** One CloudWatch dashboard: the API, every function, the queue and its DLQ, the table. */
export class JobsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: JobsDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(1);
    const sum = { period, statistic: cloudwatch.Stats.SUM };
    const functions = Object.entries(props.functions);
    const perFunction = (title: string, metric: (fn: lambda.IFunction) => cloudwatch.IMetric) =>
      new cloudwatch.GraphWidget({
        title,
        width: 6,
        left: functions.map(([name, fn]) => withLabel(metric(fn), name)),
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        width: 12,
        left: [props.api.metricCount(sum), props.api.metricClientError(sum), props.api.metricServerError(sum)],
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (p50, p99)',
        width: 12,
        left: [props.api.metricLatency({ period, statistic: 'p50' }), props.api.metricLatency({ period, statistic: 'p99' })],
      }),
    );
    this.dashboard.addWidgets(
      perFunction('Invocations', (fn) => fn.metricInvocations(sum)),
      perFunction('Errors', (fn) => fn.metricErrors(sum)),
      perFunction('Duration p99', (fn) => fn.metricDuration({ period, statistic: 'p99' })),
      perFunction('Throttles', (fn) => fn.metricThrottles(sum)),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Event queue depth',
        width: 8,
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ period }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest message age (s)',
        width: 8,
        left: [props.queue.metricApproximateAgeOfOldestMessage({ period })],
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Dead-letter queue: messages',
        width: 8,
        metrics: [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period })],
      }),
    );
    const job = (name: MetricName, statistic?: string) => jobMetric(name, { statistic });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Jobs',
        width: 8,
        left: [job(METRIC.jobsSubmitted), job(METRIC.jobsSucceeded), job(METRIC.jobsFailed), job(METRIC.jobsCanceled), job(METRIC.jobsTimedOut)],
      }),
      new cloudwatch.GraphWidget({ title: 'Failed jobs by error code', width: 8, left: failuresByCode(), stacked: true }),
      new cloudwatch.GraphWidget({
        title: 'Job duration (p50, p99 ms)',
        width: 8,
        left: [job(METRIC.jobDuration, 'p50'), job(METRIC.jobDuration, 'p99')],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Output bytes stored', width: 8, left: [job(METRIC.outputBytes)] }),
      new cloudwatch.GraphWidget({ title: 'Webhooks rejected (bad signature)', width: 8, left: [job(METRIC.webhookRejected)] }),
      new cloudwatch.GraphWidget({ title: 'Jobs advanced by the reconciler (lost webhooks)', width: 8, left: [job(METRIC.reconciled)] }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Jobs table: consumed capacity',
        width: 12,
        left: [props.table.metricConsumedReadCapacityUnits(sum), props.table.metricConsumedWriteCapacityUnits(sum)],
      }),
      new cloudwatch.GraphWidget({
        title: 'Jobs table: throttled requests and conditional-check failures',
        width: 12,
        left: [
          props.table.metricThrottledRequestsForOperations({ ...sum, operations: [] }),
          props.table.metric('ConditionalCheckFailedRequests', sum),
        ],
      }),
    );
  }
}

function withLabel(metric: cloudwatch.IMetric, label: string): cloudwatch.IMetric {
  return metric instanceof cloudwatch.Metric ? metric.with({ label }) : metric;
}
