import { CfnOutput, Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { JOBS_TABLE_SCHEMA } from '../lambdas/adapters/dynamo-job-repository';
import { WEBHOOK_RECEIPT_PREFIX } from '../lambdas/adapters/dynamo-webhook-receipts';
import { UNSET_SECRET } from '../lambdas/adapters/secrets';
import { REPLICATE_OUTPUT_HOSTS } from '../lambdas/core/host-allowlist';
import { DEFAULT_LIMITS, OwnerLimitsSetting, type Limits } from '../lambdas/core/owner-limits';
import { API_FUNCTIONS, ROUTES, type ApiFunctionName } from '../lambdas/routes';
import { DEFAULT_REPLICATE_API_BASE_URL, ENV } from '../lambdas/runtime/settings';
import { JobsAlarms } from './jobs-alarms';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import { JobsDashboard } from './jobs-dashboard';

export interface ReplicateJobsProps {
  /**
   * Hosts the consumer may download output files from (`host`, `host:port` or `*.domain`), https only.
   * @default Replicate's file-delivery hosts: `replicate.delivery` and `*.replicate.delivery`
   */
  readonly outputHosts?: string[];
  /**
   * Base URL of the Replicate API.
   * @default https://api.replicate.com/v1
   */
  readonly replicateApiBaseUrl?: string;
  /**
   * The base URL Replicate sends webhooks to (a custom domain in front of the API, say).
   * @default the URL each submit request came in on
   */
  readonly publicUrl?: string;
  /**
   * How long a job may stay unfinished before it is canceled at Replicate and failed with `timeout`
   * (a job may set a shorter or longer `timeoutSeconds`).
   * @default Duration.minutes(10)
   */
  readonly jobTimeout?: Duration;
  /**
   * How often the reconciler looks for quiet jobs.
   * @default Duration.minutes(1)
   */
  readonly reconcileInterval?: Duration;
  /**
   * How long a job may go without an update before the reconciler polls Replicate for it.
   * @default Duration.minutes(2)
   */
  readonly reconcileAfter?: Duration;
  /**
   * Per-owner limits: jobs in flight and jobs per UTC day, by default and per owner (API key id).
   * @default 50 in flight and 10 000 a day for every owner
   */
  readonly ownerLimits?: { default: Limits; owners?: Record<string, Partial<Limits>> };
  /**
   * Where alarms notify. Subscribe an email, chat or pager endpoint to it.
   * @default a new SNS topic
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Timeout of the consumer, which streams outputs to S3. The queue's visibility timeout is six times this
   * (AWS's advice for SQS event sources), and a transfer lease lasts this long.
   * @default Duration.minutes(5)
   */
  readonly consumerTimeout?: Duration;
  /**
   * Most consumer instances at once: bounds the load on Replicate's file hosts and on the table.
   * @default 10
   */
  readonly consumerMaxConcurrency?: number;
  /**
   * Lifetime of the presigned output URLs `GET /jobs/{id}` answers with.
   * @default Duration.hours(1)
   */
  readonly presignedUrlExpiry?: Duration;
  /**
   * Largest output file copied; a larger one fails the job with `output_too_large`.
   * @default 5 GiB
   */
  readonly maxOutputBytes?: number;
  /**
   * Receives of a message before it goes to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Steady-state requests per second and burst allowed per API key by the usage plan.
   * @default { rateLimit: 20, burstLimit: 40 }
   */
  readonly throttle?: { rateLimit: number; burstLimit: number };
  /**
   * Requests per day allowed per API key.
   * @default 100000
   */
  readonly dailyQuota?: number;
  /**
   * What happens to the table, buckets and secrets when the stack is deleted.
   * @default RemovalPolicy.RETAIN (job records and outputs outlive the stack)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How long function and API access logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Replicate predictions as durable, idempotent, observable jobs: REST API, signed-webhook receiver, queue,
 * consumer that copies outputs to S3, DynamoDB job table, secrets and a dashboard.
 */
export class ReplicateJobs extends Construct {
  readonly api: apigateway.RestApi;
  readonly table: dynamodb.Table;
  readonly bucket: s3.Bucket;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly apiTokenSecret: secretsmanager.Secret;
  readonly webhookSecret: secretsmanager.Secret;
  readonly callbackQueue: sqs.Queue;
  readonly callbackDeadLetterQueue: sqs.Queue;
  readonly callbackSigningKey: secretsmanager.Secret;
  readonly functions: Record<ApiFunctionName | 'consumer' | 'reconciler' | 'callbacks', nodejs.NodejsFunction>;
  readonly usagePlan: apigateway.UsagePlan;
  readonly dashboard: JobsDashboard;
  readonly alarms: JobsAlarms;
  readonly alarmTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: ReplicateJobsProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const consumerTimeout = props.consumerTimeout ?? Duration.minutes(5);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.table = this.createTable(removalPolicy);
    this.bucket = this.createBucket(removalPolicy);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'EventQueue', {
      visibilityTimeout: Duration.seconds(consumerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    this.callbackDeadLetterQueue = new sqs.Queue(this, 'CallbackDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.callbackQueue = new sqs.Queue(this, 'CallbackQueue', {
      visibilityTimeout: Duration.minutes(3),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // With backoff doubling from 10 s (capped at 15 min), 8 attempts span about an hour and a half.
      deadLetterQueue: { queue: this.callbackDeadLetterQueue, maxReceiveCount: 8 },
    });
    // Generated by CloudFormation at deploy: each owner's callback secret is derived from it, never stored.
    this.callbackSigningKey = new secretsmanager.Secret(this, 'CallbackSigningKey', {
      description: 'Master key the per-owner callback signing secrets of replicate-jobs are derived from',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy,
    });
    // Created with a placeholder: the real values are set after deploy (README, "Setting the secrets"),
    // so no secret ever passes through the template.
    const placeholder = () => SecretValue.unsafePlainText(UNSET_SECRET);
    this.apiTokenSecret = new secretsmanager.Secret(this, 'ReplicateApiToken', {
      description: 'Replicate API token used by replicate-jobs',
      secretStringValue: placeholder(),
      removalPolicy,
    });
    this.webhookSecret = new secretsmanager.Secret(this, 'ReplicateWebhookSecret', {
      description: 'Replicate webhook signing secret(s), whsec_..., comma-separated during rotation',
      secretStringValue: placeholder(),
      removalPolicy,
    });

    const replicateApiBaseUrl = props.replicateApiBaseUrl ?? DEFAULT_REPLICATE_API_BASE_URL;
    const environment: Record<string, string> = {
      [ENV.tableName]: this.table.tableName,
      [ENV.bucketName]: this.bucket.bucketName,
      [ENV.queueUrl]: this.queue.queueUrl,
      [ENV.callbackQueueUrl]: this.callbackQueue.queueUrl,
      [ENV.callbackKeySecret]: this.callbackSigningKey.secretArn,
      [ENV.apiTokenSecret]: this.apiTokenSecret.secretArn,
      [ENV.webhookSecret]: this.webhookSecret.secretArn,
      [ENV.replicateBaseUrl]: replicateApiBaseUrl,
      [ENV.outputHosts]: (props.outputHosts ?? REPLICATE_OUTPUT_HOSTS).join(','),
      [ENV.maxOutputBytes]: String(props.maxOutputBytes ?? 5 * 1024 ** 3),
      [ENV.presignedUrlSeconds]: String((props.presignedUrlExpiry ?? Duration.hours(1)).toSeconds()),
      [ENV.transferLeaseSeconds]: String(consumerTimeout.toSeconds()),
      [ENV.downloadTimeoutSeconds]: String(Math.max(30, consumerTimeout.toSeconds() - 30)),
      [ENV.jobTimeoutSeconds]: String((props.jobTimeout ?? Duration.minutes(10)).toSeconds()),
      [ENV.reconcileAfterSeconds]: String((props.reconcileAfter ?? Duration.minutes(2)).toSeconds()),
      // Validated here, so a typo fails `cdk synth` instead of every submit.
      [ENV.ownerLimits]: JSON.stringify(OwnerLimitsSetting.parse(props.ownerLimits ?? { default: DEFAULT_LIMITS })),
      POWERTOOLS_SERVICE_NAME: 'replicate-jobs',
      NODE_OPTIONS: '--enable-source-maps',
      ...(props.publicUrl ? { [ENV.publicUrl]: props.publicUrl } : {}),
    };
    const fn = (name: string, handler: string, entry: string, overrides: Partial<nodejs.NodejsFunctionProps> = {}) =>
      new nodejs.NodejsFunction(this, name, {
        entry: path.join(__dirname, '..', 'lambdas', 'functions', entry),
        handler,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(29),
        environment,
        tracing: lambda.Tracing.ACTIVE,
        logGroup: new logs.LogGroup(this, `${name}Logs`, { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY }),
        loggingFormat: lambda.LoggingFormat.JSON,
        projectRoot: path.join(__dirname, '..'),
        depsLockFilePath: path.join(__dirname, '..', 'package-lock.json'),
        bundling: { minify: true, sourceMap: true, target: 'node24' },
        ...overrides,
      });
    const apiFunctions = Object.fromEntries(
      API_FUNCTIONS.map((name) => [name, fn(`${capitalize(name)}Function`, name, 'api.ts')]),
    ) as Record<ApiFunctionName, nodejs.NodejsFunction>;
    // 512 MB: copying a 1 GiB output peaks at ~180 MiB RSS (bench/README.md), so this leaves ~2.8x headroom.
    const consumer = fn('ConsumerFunction', 'handler', 'consumer.ts', { timeout: consumerTimeout, memorySize: 512 });
    const reconciler = fn('ReconcilerFunction', 'handler', 'reconciler.ts', { timeout: Duration.minutes(1) });
    const callbacks = fn('CallbackFunction', 'handler', 'callbacks.ts', { timeout: Duration.seconds(30) });
    this.functions = { ...apiFunctions, consumer, reconciler, callbacks };

    // Least privilege: each function gets exactly the grants its handlers use.
    this.table.grantReadWriteData(apiFunctions.submit);
    this.apiTokenSecret.grantRead(apiFunctions.submit);
    this.bucket.grantRead(apiFunctions.submit, 'outputs/*'); // presigned URLs in the answers of cancel
    this.bucket.grantRead(apiFunctions.submit, 'results/*');
    this.table.grantReadData(apiFunctions.status);
    this.bucket.grantRead(apiFunctions.status, 'outputs/*');
    this.bucket.grantRead(apiFunctions.status, 'results/*');
    this.webhookSecret.grantRead(apiFunctions.webhook);
    // The webhook function touches only its own receipts: items whose key starts with `webhook#`.
    apiFunctions.webhook.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${WEBHOOK_RECEIPT_PREFIX}*`] } },
      }),
    );
    this.queue.grantSendMessages(apiFunctions.webhook);
    this.bucket.grantPut(apiFunctions.webhook, 'webhook-bodies/*');
    this.table.grantReadWriteData(consumer);
    this.bucket.grantPut(consumer, 'outputs/*');
    this.bucket.grantPut(consumer, 'results/*');
    this.bucket.grantRead(consumer, 'webhook-bodies/*');
    // Every function that can end a job queues its callback; the status function hands out callback secrets.
    for (const ender of [apiFunctions.submit, consumer, reconciler]) this.callbackQueue.grantSendMessages(ender);
    this.callbackSigningKey.grantRead(apiFunctions.status);
    this.callbackSigningKey.grantRead(callbacks);
    this.table.grantReadWriteData(callbacks);
    this.bucket.grantRead(callbacks, 'outputs/*');
    this.bucket.grantRead(callbacks, 'results/*');
    callbacks.addEventSource(new SqsEventSource(this.callbackQueue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 5 }));
    this.table.grantReadWriteData(reconciler);
    this.apiTokenSecret.grantRead(reconciler);
    this.queue.grantSendMessages(reconciler);
    this.bucket.grantPut(reconciler, 'webhook-bodies/*');
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Polls Replicate for jobs whose webhooks went quiet, and times out stuck jobs',
      schedule: events.Schedule.rate(props.reconcileInterval ?? Duration.minutes(1)),
      targets: [new targets.LambdaFunction(reconciler, { retryAttempts: 0 })],
    });
    consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        maxConcurrency: props.consumerMaxConcurrency ?? 10,
      }),
    );

    this.api = this.createApi(apiFunctions, logRetention);
    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      throttle: props.throttle ?? { rateLimit: 20, burstLimit: 40 },
      quota: { limit: props.dailyQuota ?? 100_000, period: apigateway.Period.DAY },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    const defaultKey = this.api.addApiKey('DefaultApiKey', { description: 'First replicate-jobs client; add more per owner' });
    this.usagePlan.addApiKey(defaultKey);

    const observed = { api: this.api, functions: this.functions, queue: this.queue, deadLetterQueue: this.deadLetterQueue, table: this.table };
    this.dashboard = new JobsDashboard(this, 'Dashboard', observed);
    this.alarmTopic = props.alarmTopic ?? new sns.Topic(this, 'AlarmTopic', { displayName: 'replicate-jobs alarms', enforceSSL: true });
    this.alarms = new JobsAlarms(this, 'Alarms', { ...observed, callbackDeadLetterQueue: this.callbackDeadLetterQueue, topic: this.alarmTopic });

    acknowledgeNagFindings(this, { table: this.table, bucket: this.bucket, functions: Object.values(this.functions) });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'WebhookUrl', { value: `${this.api.url}webhooks/replicate` });
    new CfnOutput(this, 'OutputBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'JobsTableName', { value: this.table.tableName });
    new CfnOutput(this, 'ApiTokenSecretName', { value: this.apiTokenSecret.secretName });
    new CfnOutput(this, 'WebhookSecretName', { value: this.webhookSecret.secretName });
    new CfnOutput(this, 'DefaultApiKeyId', { value: defaultKey.keyId });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EventQueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  private createTable(removalPolicy: RemovalPolicy): dynamodb.Table {
    const s = JOBS_TABLE_SCHEMA;
    const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const table = new dynamodb.Table(this, 'JobsTable', {
      partitionKey: string(s.partitionKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      timeToLiveAttribute: s.timeToLive,
      removalPolicy,
    });
    table.addGlobalSecondaryIndex({
      indexName: s.byPrediction.indexName,
      partitionKey: string(s.byPrediction.partitionKey),
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    table.addGlobalSecondaryIndex({
      indexName: s.byOwner.indexName,
      partitionKey: string(s.byOwner.partitionKey),
      sortKey: string(s.byOwner.sortKey),
    });
    table.addGlobalSecondaryIndex({
      indexName: s.active.indexName,
      partitionKey: string(s.active.partitionKey),
      sortKey: string(s.active.sortKey),
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...s.active.projected],
    });
    return table;
  }

  private createBucket(removalPolicy: RemovalPolicy): s3.Bucket {
    const secure = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy,
      autoDeleteObjects: false,
    };
    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      ...secure,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    return new s3.Bucket(this, 'OutputBucket', {
      ...secure,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'outputs/',
      lifecycleRules: [
        // Large webhook bodies only need to live until the consumer has read them.
        { prefix: 'webhook-bodies/', expiration: Duration.days(7) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }

  private createApi(functions: Record<ApiFunctionName, nodejs.NodejsFunction>, retention: logs.RetentionDays) {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    const api = new apigateway.RestApi(this, 'Api', {
      description: 'replicate-jobs: Replicate predictions as durable jobs',
      apiKeySourceType: apigateway.ApiKeySourceType.HEADER,
      cloudWatchRole: false,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      },
    });
    const integrations = new Map<ApiFunctionName, apigateway.LambdaIntegration>();
    for (const route of ROUTES) {
      const resource = api.root.resourceForPath(route.path);
      if (!integrations.has(route.function)) integrations.set(route.function, new apigateway.LambdaIntegration(functions[route.function]));
      resource.addMethod(route.method, integrations.get(route.function), { apiKeyRequired: route.apiKeyRequired });
    }
    return api;
  }
}

const capitalize = (name: string) => name[0].toUpperCase() + name.slice(1);
