import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { JobsMetricFactory } from './jobs-metric-factory';

export interface JobsDashboardProps {
  /** Where every line comes from: the same factory the alarms watch. */
  readonly metrics: JobsMetricFactory;
}

/** One CloudWatch dashboard: the API, every function, both queues and their DLQs, the jobs, the table. */
export class JobsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: JobsDashboardProps) {
    super(scope, id);
    const m = props.metrics;
    const sum = { statistic: cloudwatch.Stats.SUM };
    const graph = (title: string, width: number, left: cloudwatch.IMetric[], stacked = false) =>
      new cloudwatch.GraphWidget({ title, width, left, ...(stacked ? { stacked } : {}) });

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      graph('API requests and errors', 12, [
        m.metricApiRequests(),
        m.metricApiClientErrors(),
        m.metricApiServerErrors(),
      ]),
      graph('API latency (p50, p99)', 12, [
        m.metricApiLatency({ statistic: 'p50' }),
        m.metricApiLatency({ statistic: 'p99' }),
      ]),
    );
    const period = JobsMetricFactory.PERIOD;
    this.dashboard.addWidgets(
      graph(
        'Invocations',
        6,
        m.metricPerFunction((fn) => fn.metricInvocations({ period, ...sum })),
      ),
      graph(
        'Errors',
        6,
        m.metricPerFunction((fn) => fn.metricErrors({ period, ...sum })),
      ),
      graph(
        'Duration p99',
        6,
        m.metricPerFunction((fn) => fn.metricDuration({ period, statistic: 'p99' })),
      ),
      graph(
        'Throttles',
        6,
        m.metricPerFunction((fn) => fn.metricThrottles({ period, ...sum })),
      ),
    );
    this.dashboard.addWidgets(
      graph('Event queue depth', 8, [m.metricQueueBacklog(), m.metricQueueInFlight()]),
      graph('Oldest message age (s)', 8, [m.metricOldestMessageAge()]),
      new cloudwatch.SingleValueWidget({
        title: 'Dead-letter queue: messages',
        width: 8,
        metrics: [m.metricDeadLetters()],
      }),
    );
    // Client callbacks have their own queue: a slow or failing client endpoint shows here, apart from webhooks.
    this.dashboard.addWidgets(
      graph('Callback queue depth', 8, [m.metricCallbackBacklog(), m.metricCallbacksInFlight()]),
      graph('Oldest callback age (s)', 8, [m.metricOldestCallbackAge()]),
      new cloudwatch.SingleValueWidget({
        title: 'Callback dead-letter queue: messages',
        width: 8,
        metrics: [m.metricCallbackDeadLetters()],
      }),
    );
    this.dashboard.addWidgets(
      graph('Jobs', 8, [
        m.metricJobsSubmitted(),
        m.metricJobsSucceeded(),
        m.metricJobsFailed(),
        m.metricJobsCanceled(),
        m.metricJobsTimedOut(),
      ]),
      graph('Failed jobs by error code', 8, m.metricJobsFailedByCode(), true),
      graph('Job duration (p50, p99 ms)', 8, [
        m.metricJobDuration({ statistic: 'p50' }),
        m.metricJobDuration({ statistic: 'p99' }),
      ]),
    );
    // Replicate's create rate: jobs above it wait here, and are created in turn by the admitter.
    this.dashboard.addWidgets(
      graph('Admission: jobs waiting for capacity', 8, [m.metricAdmissionBacklog()]),
      graph('Admission: oldest wait (ms)', 8, [m.metricAdmissionOldestWait()]),
      graph('Admission: creates Replicate throttled (429)', 8, [m.metricAdmissionThrottled()]),
    );
    this.dashboard.addWidgets(
      graph('Output bytes stored', 8, [m.metricOutputBytes()]),
      graph('Webhooks rejected (bad signature)', 8, [m.metricWebhooksRejected()]),
      graph('Jobs advanced by the reconciler (lost webhooks)', 8, [m.metricReconciled()]),
    );
    this.dashboard.addWidgets(
      graph('Jobs table: consumed capacity', 12, [m.metricTableReadCapacity(), m.metricTableWriteCapacity()]),
      graph('Jobs table: throttled requests and conditional-check failures', 12, [
        m.metricTableThrottles(),
        m.metricTableConditionalCheckFailures(),
      ]),
    );
  }
}
