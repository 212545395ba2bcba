import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { JobsMetricFactory } from './jobs-metric-factory';
import type { AlarmThresholds } from './replicate-jobs-props';

export interface JobsAlarmsProps {
  /** What the alarms watch: the same factory the dashboard draws. */
  readonly metrics: JobsMetricFactory;
  /** The functions to watch for errors and throttles, by name. */
  readonly functionNames: string[];
  readonly topic: sns.ITopic;
  /**
   * When each alarm fires.
   * @default the defaults of each `AlarmThresholds` field
   */
  readonly thresholds?: AlarmThresholds;
}

/** Each threshold's default, as `AlarmThresholds` documents it. */
export function resolveAlarmThresholds(given: AlarmThresholds = {}): Required<AlarmThresholds> {
  return {
    // Replicate deletes a prediction's outputs about an hour after it ends: a quarter of that leaves time to act.
    maxMessageAge: given.maxMessageAge ?? Duration.minutes(15),
    deadLetterMessages: given.deadLetterMessages ?? 1,
    callbackDeadLetterMessages: given.callbackDeadLetterMessages ?? 1,
    functionErrors: given.functionErrors ?? 5,
    functionThrottles: given.functionThrottles ?? 1,
    apiServerErrorPercent: given.apiServerErrorPercent ?? 5,
    webhookRejections: given.webhookRejections ?? 20,
    webhookSecretInvalid: given.webhookSecretInvalid ?? 1,
    jobTimeouts: given.jobTimeouts ?? 3,
    // A burst of a few thousand drains in minutes at 600 a minute; longer means the rate is too low for the load.
    admissionWait: given.admissionWait ?? Duration.minutes(5),
  };
}

/** The alarms the README runbook explains, each notifying the topic when it fires and when it clears. */
export class JobsAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: JobsAlarmsProps) {
    super(scope, id);
    const m = props.metrics;
    const t = resolveAlarmThresholds(props.thresholds);
    // Counts are judged over 5 minutes (one bad minute is noise); queue gauges at their worst minute.
    const fiveMinutes = { period: Duration.minutes(5) };
    const add = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const alarm = new cloudwatch.Alarm(this, name, {
        alarmDescription: `${description} See README, "Runbook: ${name}".`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(props.topic));
      alarm.addOkAction(new actions.SnsAction(props.topic));
      this.alarms.push(alarm);
    };

    add(
      'DeadLetters',
      m.metricDeadLetters(),
      t.deadLetterMessages,
      'Messages the consumer could not process are in the dead-letter queue.',
    );
    add(
      'CallbackDeadLetters',
      m.metricCallbackDeadLetters(),
      t.callbackDeadLetterMessages,
      'A client callback could not be delivered after all its attempts.',
    );
    add(
      'QueueBacklog',
      m.metricOldestMessageAge(),
      t.maxMessageAge.toSeconds(),
      'Webhook events are waiting too long for the consumer.',
    );
    for (const name of props.functionNames) {
      const title = name[0].toUpperCase() + name.slice(1);
      add(
        `${title}Errors`,
        m.metricFunctionErrors(name, fiveMinutes),
        t.functionErrors,
        `The ${name} function failed ${t.functionErrors} or more times in 5 minutes.`,
      );
      add(
        `${title}Throttles`,
        m.metricFunctionThrottles(name, fiveMinutes),
        t.functionThrottles,
        `The ${name} function was throttled.`,
      );
    }
    add(
      'ApiServerErrors',
      m.metricApiServerErrorRate({ period: fiveMinutes.period, minimumRequests: 20 }),
      t.apiServerErrorPercent,
      `More than ${t.apiServerErrorPercent}% of API requests answered 5xx (with at least 20 requests).`,
    );
    add(
      'WebhookRejections',
      m.metricWebhooksRejected(fiveMinutes),
      t.webhookRejections,
      'Many webhooks failed signature verification: a wrong or rotated secret, or someone probing the endpoint.',
    );
    add(
      'WebhookSecretInvalid',
      m.metricWebhookSecretInvalid(fiveMinutes),
      t.webhookSecretInvalid,
      'The webhook signing secret is unset or malformed: every webhook is refused (503) until it is fixed.',
    );
    add(
      'JobTimeouts',
      m.metricJobsTimedOut(fiveMinutes),
      t.jobTimeouts,
      'Jobs are timing out: Replicate is slow or down, or the timeout is too short for the model.',
    );
    add(
      'AdmissionBacklog',
      m.metricAdmissionOldestWait(),
      t.admissionWait.toMilliseconds(),
      "Jobs wait too long for capacity at Replicate: submissions outrun the account's create rate.",
    );
  }
}
