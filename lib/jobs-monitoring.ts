import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { JobsAlarms } from './jobs-alarms';
import { JobsDashboard } from './jobs-dashboard';
import type { JobsMetricFactory } from './jobs-metric-factory';
import type { AlarmThresholds } from './replicate-jobs-props';

export interface JobsMonitoringProps {
  /** The one factory both the dashboard and the alarms read their metrics from. */
  readonly metrics: JobsMetricFactory;
  readonly functionNames: string[];
  /** @default a new SNS topic */
  readonly alarmTopic?: sns.ITopic;
  /** @default each `AlarmThresholds` field's default */
  readonly thresholds?: AlarmThresholds;
}

/**
 * The dashboard, the alarms and the topic they notify. The dashboard and the alarms are constructs of their own
 * (`Dashboard`, `Alarms`), as they were before the construct was split; the topic stays in the `ReplicateJobs`
 * scope, so its subscribers keep it.
 */
export class JobsMonitoring {
  readonly dashboard: JobsDashboard;
  readonly alarms: JobsAlarms;
  readonly alarmTopic: sns.ITopic;

  constructor(scope: Construct, props: JobsMonitoringProps) {
    this.dashboard = new JobsDashboard(scope, 'Dashboard', { metrics: props.metrics });
    this.alarmTopic =
      props.alarmTopic ??
      new sns.Topic(scope, 'AlarmTopic', { displayName: 'replicate-jobs alarms', enforceSSL: true });
    this.alarms = new JobsAlarms(scope, 'Alarms', {
      metrics: props.metrics,
      functionNames: props.functionNames,
      topic: this.alarmTopic,
      thresholds: props.thresholds,
    });
  }
}
