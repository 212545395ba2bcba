import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC } from '../lambdas/core/metrics';
import { jobMetric } from './job-metrics';

export interface JobsAlarmsProps {
  readonly api: apigateway.RestApi;
  readonly functions: Record<string, lambda.IFunction>;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly callbackDeadLetterQueue: sqs.IQueue;
  readonly topic: sns.ITopic;
  /**
   * Oldest event-queue message age that raises the alarm.
   * @default Duration.minutes(15) (Replicate deletes outputs after about an hour)
   */
  readonly maxMessageAge?: Duration;
}

/** The alarms the README runbook explains, each notifying the topic when it fires and when it clears. */
export class JobsAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: JobsAlarmsProps) {
    super(scope, id);
    const fiveMinutes = Duration.minutes(5);
    const sum = { period: fiveMinutes, statistic: cloudwatch.Stats.SUM };
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

    add('DeadLetters', props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), 1,
      'Messages the consumer could not process are in the dead-letter queue.');
    add('CallbackDeadLetters', props.callbackDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), 1,
      'A client callback could not be delivered after all its attempts.');
    add('QueueBacklog', props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
      (props.maxMessageAge ?? Duration.minutes(15)).toSeconds(), 'Webhook events are waiting too long for the consumer.');
    for (const [name, fn] of Object.entries(props.functions)) {
      const title = name[0].toUpperCase() + name.slice(1);
      add(`${title}Errors`, fn.metricErrors(sum), 5, `The ${name} function failed 5 or more times in 5 minutes.`);
      add(`${title}Throttles`, fn.metricThrottles(sum), 1, `The ${name} function was throttled.`);
    }
    const serverErrorRate = new cloudwatch.MathExpression({
      expression: 'IF(requests >= 20, 100 * errors / requests, 0)',
      usingMetrics: { errors: props.api.metricServerError(sum), requests: props.api.metricCount(sum) },
      period: fiveMinutes,
      label: 'API 5xx rate (%)',
    });
    add('ApiServerErrors', serverErrorRate, 5, 'More than 5% of API requests answered 5xx (with at least 20 requests).');
    add('WebhookRejections', jobMetric(METRIC.webhookRejected, { period: fiveMinutes }), 20,
      'Many webhooks failed signature verification: a wrong or rotated secret, or someone probing the endpoint.');
    add('WebhookSecretInvalid', jobMetric(METRIC.webhookSecretInvalid, { period: fiveMinutes }), 1,
      'The webhook signing secret is unset or malformed: every webhook is refused (503) until it is fixed.');
    add('JobTimeouts', jobMetric(METRIC.jobsTimedOut, { period: fiveMinutes }), 3,
      'Jobs are timing out: Replicate is slow or down, or the timeout is too short for the model.');
  }
}
