import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS } from '../contract/defaults';
import type { ApiWaf } from './api-waf';
import type { JobsAlarms } from './jobs-alarms';
import { JobsApi } from './jobs-api';
import type { JobsDashboard } from './jobs-dashboard';
import { type FunctionName, JobsFunctions } from './jobs-functions';
import { JobsMetricFactory } from './jobs-metric-factory';
import { JobsMonitoring } from './jobs-monitoring';
import { JobsQueues } from './jobs-queues';
import { JobsSecrets } from './jobs-secrets';
import { JobsStorage } from './jobs-storage';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import type { ReplicateJobsProps } from './replicate-jobs-props';
import { validateProps } from './validate-props';

export type { AlarmThresholds, ReplicateJobsProps, Throttle } from './replicate-jobs-props';

/**
 * Replicate predictions as durable, idempotent, observable jobs: REST API, signed-webhook receiver, queue,
 * consumer that copies outputs to S3, DynamoDB job table, secrets and a dashboard.
 *
 * Composed of parts, each in its own file and owning the grants on its resources: storage (table, bucket),
 * queues, secrets, functions, API, monitoring. The parts create their resources in this construct's scope, so
 * every resource keeps the construct path (and so the CloudFormation logical ID) it had before the split: a
 * deployed stack updates in place instead of replacing its table, bucket, queues and API.
 */
export class ReplicateJobs extends Construct {
  readonly api: apigateway.RestApi;
  readonly usagePlan: apigateway.IUsagePlan;
  readonly table: dynamodb.ITable;
  readonly bucket: s3.IBucket;
  /** The event queue: webhook events (and polled predictions) waiting for the consumer. */
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** Client callbacks waiting for their sender. */
  readonly callbackQueue: sqs.IQueue;
  readonly callbackDeadLetterQueue: sqs.IQueue;
  readonly apiTokenSecret: secretsmanager.ISecret;
  readonly webhookSecret: secretsmanager.ISecret;
  readonly callbackSigningKey: secretsmanager.ISecret;
  readonly functions: Record<FunctionName, lambda.IFunction>;
  /** The web ACL on the API stage, when the `waf` prop asks for one. */
  readonly waf?: ApiWaf;
  readonly dashboard: JobsDashboard;
  readonly alarms: JobsAlarms;
  readonly alarmTopic: sns.ITopic;
  /** Every metric the dashboard and the alarms use; the `metric*` methods here are its most asked-for ones. */
  readonly metrics: JobsMetricFactory;

  private readonly storage: JobsStorage;
  private readonly queues: JobsQueues;
  private readonly secrets: JobsSecrets;

  constructor(scope: Construct, id: string, props: ReplicateJobsProps = {}) {
    super(scope, id);
    validateProps(this, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(DEFAULTS.consumerTimeoutSeconds);

    this.storage = new JobsStorage(this, {
      removalPolicy,
      uploadRetentionDays: props.uploadRetention?.toDays() ?? DEFAULTS.uploadRetentionDays,
      outputRetentionDays: props.outputRetention?.toDays(),
    });
    this.queues = new JobsQueues(this, {
      // Six times the consumer's timeout: AWS's advice for SQS event sources.
      eventVisibilityTimeout: props.eventQueueVisibilityTimeout ?? Duration.seconds(consumerTimeout.toSeconds() * 6),
      maxReceiveCount: props.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
    });
    this.secrets = new JobsSecrets(this, { removalPolicy });
    const functions = new JobsFunctions(this, {
      props,
      storage: this.storage,
      queues: this.queues,
      secrets: this.secrets,
      replicateApiBaseUrl: props.replicateApiBaseUrl ?? DEFAULTS.replicateApiBaseUrl,
    });
    const api = new JobsApi(this, {
      props,
      functions: functions.functions,
      authorizer: functions.functions.authorizer,
    });

    this.table = this.storage.table;
    this.bucket = this.storage.bucket;
    this.queue = this.queues.queue;
    this.deadLetterQueue = this.queues.deadLetterQueue;
    this.callbackQueue = this.queues.callbackQueue;
    this.callbackDeadLetterQueue = this.queues.callbackDeadLetterQueue;
    this.apiTokenSecret = this.secrets.apiToken;
    this.webhookSecret = this.secrets.webhookSecret;
    this.callbackSigningKey = this.secrets.callbackSigningKey;
    this.functions = functions.functions;
    this.api = api.api;
    this.usagePlan = api.usagePlan;
    this.waf = api.waf;

    this.metrics = new JobsMetricFactory({
      api: this.api,
      functions: this.functions,
      table: this.table,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      callbackQueue: this.callbackQueue,
      callbackDeadLetterQueue: this.callbackDeadLetterQueue,
    });
    const monitoring = new JobsMonitoring(this, {
      metrics: this.metrics,
      functionNames: Object.keys(this.functions),
      alarmTopic: props.alarmTopic,
      thresholds: props.alarmThresholds,
    });
    this.dashboard = monitoring.dashboard;
    this.alarms = monitoring.alarms;
    this.alarmTopic = monitoring.alarmTopic;

    acknowledgeNagFindings(this, {
      table: this.storage.table,
      bucket: this.storage.bucket,
      functions: Object.values(functions.functions),
      waf: this.waf !== undefined,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'WebhookUrl', { value: `${this.api.url}webhooks/replicate` });
    new CfnOutput(this, 'OutputBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'JobsTableName', { value: this.table.tableName });
    new CfnOutput(this, 'ApiTokenSecretName', { value: this.secrets.apiToken.secretName });
    new CfnOutput(this, 'WebhookSecretName', { value: this.secrets.webhookSecret.secretName });
    new CfnOutput(this, 'DefaultApiKeyId', { value: api.defaultApiKey.keyId });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EventQueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  /**
   * Lets `grantee` read jobs' stored outputs, as `GET /jobs/{id}` does: `s3:GetObject` on the output bucket's
   * `outputs/*` (copied files) and `results/*` (outputs too large for the job's item). Nothing else of the bucket.
   */
  grantReadOutputs(grantee: iam.IGrantable): iam.Grant {
    return this.storage.grantReadOutputs(grantee);
  }

  /**
   * Lets `grantee` read job records, as `GET /jobs/{id}` and `GET /jobs` do: `dynamodb:GetItem` on the jobs
   * table (any item of it: the owners' quota and callback items and the admission items share the table) and
   * `dynamodb:Query` on its `byOwner` index. No writes, no scans.
   */
  grantReadJobs(grantee: iam.IGrantable): iam.Grant {
    return this.storage.grantReadJobs(grantee);
  }

  /**
   * Lets `grantee` list and redrive both dead-letter queues (`npm run dlq`): `sqs:ReceiveMessage`,
   * `sqs:DeleteMessage` and `sqs:GetQueueAttributes` on the event and callback dead-letter queues, and
   * `sqs:SendMessage` on the event and callback queues they feed back into.
   */
  grantRedriveDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return this.queues.grantRedriveDeadLetters(grantee);
  }

  /**
   * Lets `grantee` set Replicate's API token and webhook secret (`npm run secrets`, from a CI role say):
   * `secretsmanager:PutSecretValue` on both, and `secretsmanager:GetSecretValue` on the webhook secret (a
   * rotation keeps the secret in force). Never the callback signing key.
   */
  grantSetReplicateSecrets(grantee: iam.IGrantable): iam.Grant {
    return this.secrets.grantSetReplicateSecrets(grantee);
  }

  /** Jobs accepted by `POST /jobs`. Sum over 1 minute unless `options` say otherwise. */
  metricJobsSubmitted(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metricJobsSubmitted(options);
  }

  /** Jobs that ended `succeeded`. Sum over 1 minute unless `options` say otherwise. */
  metricJobsSucceeded(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metricJobsSucceeded(options);
  }

  /** Jobs that ended `failed`, any error code. Sum over 1 minute unless `options` say otherwise. */
  metricJobsFailed(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metricJobsFailed(options);
  }

  /** Jobs failed with `timeout`. Sum over 1 minute unless `options` say otherwise. */
  metricJobsTimedOut(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metricJobsTimedOut(options);
  }

  /** Webhook events waiting for the consumer. Maximum over 1 minute unless `options` say otherwise. */
  metricQueueBacklog(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metricQueueBacklog(options);
  }

  /** Age in seconds of the oldest unprocessed webhook event (what alarm `QueueBacklog` watches). */
  metricOldestMessageAge(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metricOldestMessageAge(options);
  }

  /** Events in the dead-letter queue (what alarm `DeadLetters` watches). */
  metricDeadLetters(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metricDeadLetters(options);
  }

  /** Client callbacks in their dead-letter queue (what alarm `CallbackDeadLetters` watches). */
  metricCallbackDeadLetters(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metricCallbackDeadLetters(options);
  }
}
