import * as path from 'node:path';
import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BUCKET_PREFIXES } from '../contract/bucket';
import { DEFAULTS, downloadTimeoutSecondsFor } from '../contract/defaults';
import { ENV } from '../contract/environment';
import { MAX_STREAM_MS } from '../lambdas/core/event-stream';
import { OwnerLimitsSetting } from '../lambdas/core/owner-limits';
import { PriceTableSetting } from '../lambdas/core/prices';
import { ROUTES, STREAMING_FUNCTIONS } from '../lambdas/routes';
import type { JobsQueues } from './jobs-queues';
import type { JobsSecrets } from './jobs-secrets';
import type { JobsStorage } from './jobs-storage';
import type { ReplicateJobsProps } from './replicate-jobs-props';
import { wasmVipsBundling } from './wasm-vips-asset';

/** The API functions, in the order the route table first names them (each serves one or more routes). */
export type ApiFunctionName = (typeof ROUTES)[number]['function'];
export const API_FUNCTION_NAMES: ApiFunctionName[] = [...new Set(ROUTES.map((route) => route.function))];
export type FunctionName = ApiFunctionName | 'consumer' | 'reconciler' | 'callbacks' | 'admitter' | 'authorizer';

export interface JobsFunctionsProps {
  readonly props: ReplicateJobsProps;
  readonly storage: JobsStorage;
  readonly queues: JobsQueues;
  readonly secrets: JobsSecrets;
  /** The Replicate API base URL (a stack parameter's token, when the stack makes one). */
  readonly replicateApiBaseUrl: string;
}

const ROOT = path.join(__dirname, '..');
/** A streaming API function's timeout, and its integration's: the longest stream and time to close it. */
export const STREAMING_TIMEOUT_SECONDS = MAX_STREAM_MS / 1000 + 30;
/** An API function's timeout: API Gateway's default integration timeout. */
export const API_TIMEOUT_SECONDS = 29;
/**
 * The submit function's timeout, and its integration's: a create request may wait `maxPreferWaitSeconds`
 * (`Prefer: wait`) after the submit itself, which takes up to 4 s (a create rate slot, Replicate's answer).
 */
export function submitTimeoutSeconds(props: ReplicateJobsProps): number {
  return Math.max(API_TIMEOUT_SECONDS, (props.maxPreferWaitSeconds ?? DEFAULTS.maxPreferWaitSeconds) + 4);
}
/**
 * A streaming function is billed for every second a client watches, mostly idle between reads: 192 MB, not 256,
 * holds the events function's measured peak (98 MiB RSS after streams of jobs with 4 outputs) at half its memory.
 */
export const STREAMING_MEMORY_MB = 192;

/**
 * The six functions, what they are told (their environment, from contract/environment.ts), what feeds them
 * (the queues' event sources, the reconciler's schedule), and what each may do. Created in the `ReplicateJobs`
 * scope, so their logical IDs are the ones they had before the construct was split.
 */
export class JobsFunctions {
  readonly functions: Record<FunctionName, nodejs.NodejsFunction>;

  constructor(scope: Construct, p: JobsFunctionsProps) {
    const props = p.props;
    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(DEFAULTS.consumerTimeoutSeconds);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const environment = functionEnvironment(p, consumerTimeout);
    const fn = (
      name: string,
      handler: string,
      entry: string,
      overrides: Partial<nodejs.NodejsFunctionProps> = {},
      bundling: Partial<nodejs.BundlingOptions> = {},
    ) =>
      new nodejs.NodejsFunction(scope, name, {
        entry: path.join(ROOT, 'lambdas', 'functions', entry),
        handler,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(API_TIMEOUT_SECONDS),
        environment,
        tracing: lambda.Tracing.ACTIVE,
        logGroup: new logs.LogGroup(scope, `${name}Logs`, {
          retention: logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        loggingFormat: lambda.LoggingFormat.JSON,
        projectRoot: ROOT,
        depsLockFilePath: path.join(ROOT, 'package-lock.json'),
        bundling: {
          minify: true,
          sourceMap: true,
          target: 'node24',
          // The AWS SDK is bundled (tree-shaken, ES module builds), not taken from the runtime: the version that
          // runs is the one package-lock.json pins and the tests ran, and a bundled client starts faster than the
          // runtime's (bench/README.md, "How the SDK ships").
          externalModules: [],
          mainFields: ['module', 'main'],
          metafile: true,
          ...bundling,
        },
        ...overrides,
      });
    // One entry point per API function, each importing only the adapters its routes use (lambdas/functions/).
    // A streaming function holds its response open for a whole event stream: its timeout covers the longest one, and
    // its reservation caps how many are open at once (each holds an execution environment).
    const streams = props.eventStreamConcurrency ?? DEFAULTS.eventStreamConcurrency;
    const streaming: Partial<nodejs.NodejsFunctionProps> = {
      timeout: Duration.seconds(STREAMING_TIMEOUT_SECONDS),
      memorySize: STREAMING_MEMORY_MB,
      reservedConcurrentExecutions: streams === false ? undefined : streams,
    };
    const api = Object.fromEntries(
      API_FUNCTION_NAMES.map((name) => [
        name,
        fn(`${capitalize(name)}Function`, 'handler', `${name}.ts`, {
          ...(name === 'submit' ? { timeout: Duration.seconds(submitTimeoutSeconds(props)) } : {}),
          ...(STREAMING_FUNCTIONS.includes(name) ? streaming : {}),
        }),
      ]),
    ) as Record<ApiFunctionName, nodejs.NodejsFunction>;
    const consumerMaxConcurrency = props.consumerMaxConcurrency ?? DEFAULTS.consumerMaxConcurrency;
    const consumerReserved = props.consumerReservedConcurrency ?? consumerMaxConcurrency;
    // 2048 MB: a job of 4 outputs of 1 GiB copied at the transfer concurrency (4) peaks at ~300 MiB RSS on Node 24
    // (npm run bench:memory), and an image derivative of the largest source allowed (a 40 MP WebP, decoded whole)
    // at ~736 MiB in a process that made some before (npm run bench:derivatives): ~926 MiB together, under half of
    // 2048. Lambda also gives the copies and libvips twice the CPU of 1024 MB (about 1.2 vCPU).
    const consumer = fn(
      'ConsumerFunction',
      'handler',
      'consumer.ts',
      {
        timeout: consumerTimeout,
        memorySize: 2048,
        reservedConcurrentExecutions: consumerReserved === false ? undefined : consumerReserved,
      },
      wasmVipsBundling(ROOT), // image derivatives: libvips in WebAssembly, shipped beside the bundle
    );
    const reconciler = fn('ReconcilerFunction', 'handler', 'reconciler.ts', { timeout: Duration.minutes(1) });
    const callbacks = fn('CallbackFunction', 'handler', 'callbacks.ts', { timeout: Duration.seconds(30) });
    // One admitter runs at a time, by its lease (a reservation of 1 would throttle the second kick of a pair):
    // it paces every create, so more would not go faster.
    const admitter = fn('AdmitterFunction', 'handler', 'admitter.ts', { timeout: Duration.seconds(90) });
    // The API's Lambda authorizer: reads the API key from x-api-key or `Authorization: Bearer` for API Gateway, before
    // every keyed request (not cached: either header may carry it), so it is small and quick.
    const authorizer = fn('AuthorizerFunction', 'handler', 'authorizer.ts', {
      memorySize: 128,
      timeout: Duration.seconds(5),
    });
    this.functions = { ...api, consumer, reconciler, callbacks, admitter, authorizer };

    this.grantLeastPrivilege(p);
    sqsEventSource(callbacks, p.queues.callbackQueue, {
      batchSize: 10,
      reportBatchItemFailures: true,
      maxConcurrency: 5,
    });
    new events.Rule(scope, 'ReconcileSchedule', {
      description: 'Polls Replicate for jobs whose webhooks went quiet, and times out stuck jobs',
      schedule: events.Schedule.rate(props.reconcileInterval ?? Duration.seconds(DEFAULTS.reconcileIntervalSeconds)),
      targets: [new targets.LambdaFunction(reconciler, { retryAttempts: 0 })],
    });
    sqsEventSource(admitter, p.queues.admissionQueue, { batchSize: 10, maxConcurrency: 2 });
    sqsEventSource(consumer, p.queues.queue, {
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
      reportBatchItemFailures: true,
      maxConcurrency: consumerMaxConcurrency,
    });
  }

  /**
   * Least privilege, measured: each function gets exactly the actions on exactly the resources its handlers
   * call, nothing CDK's broad `grant*` helpers add on top. `test/integration/least-privilege.test.ts` runs every
   * path through the deployed bundles and fails on a granted action no path uses; removing any grant here makes
   * that path fail with AccessDenied (the same test shows it per function).
   */
  private grantLeastPrivilege({ storage, queues, secrets }: JobsFunctionsProps): void {
    const { submit, status, events: watch, webhook, consumer, reconciler, callbacks, admitter } = this.functions;
    const { outputs, results, webhookBodies, uploads } = BUCKET_PREFIXES;

    // submit (also cancel): the job, the owner's counter shards (read together when one is full) and a leaked
    // slot's repair from the owner's unfinished jobs; the token; the admission items (state, windows) and
    // waking the admitter when a job must wait.
    storage.grantJobItems(submit, 'GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem');
    storage.grantQueryIndex(submit, 'unfinishedByOwner');
    // Uploads: the presigned PUT is the client's, checked against this grant; HeadObject (GetObject) tells a finished
    // upload, and the presigned GET handed to Replicate is checked against it too. DELETE /jobs/{id} removes the
    // job's objects and its unused uploads (DeleteItem: an unused upload's record).
    storage.grantObjects(submit, 's3:PutObject', uploads);
    storage.grantObjects(submit, 's3:GetObject', uploads);
    storage.grantObjects(submit, 's3:DeleteObject', outputs, results, uploads);
    // A create held by `Prefer: wait` answers the ended job: its outputs presigned, a result kept in S3 read back.
    storage.grantReadOutputs(submit);
    secrets.grantReadApiToken(submit);
    queues.grantSendCallbacks(submit); // a canceled job's callback
    queues.grantWakeAdmitter(submit);

    // status (also list, callback secret): reads only; presigned output URLs are checked against these grants.
    storage.grantReadJobs(status);
    storage.grantReadOutputs(status);
    secrets.grantReadCallbackSigningKey(status);

    // events (a job's event stream): reads the job each second (that item only) and presigns its output URLs.
    storage.grantJobItems(watch, 'GetItem');
    storage.grantReadOutputs(watch);

    // webhook: verify and queue, nothing else (no table access: replays are ignored by the consumer); large bodies.
    queues.grantSendEvents(webhook);
    storage.grantObjects(webhook, 's3:PutObject', webhookBodies);
    secrets.grantReadWebhookSecret(webhook);

    // consumer: its event source (and a duplicate put back until the copier's lease ends), the job (and a
    // prediction's job when the webhook names none), outputs in S3 (and removing those of a job that fails).
    queues.grantConsumeEvents(consumer);
    storage.grantJobItems(consumer, 'GetItem', 'UpdateItem');
    storage.grantQueryIndex(consumer, 'byPrediction');
    storage.grantObjects(consumer, 's3:PutObject', outputs, results);
    storage.grantObjects(consumer, 's3:PutObjectTagging', outputs, results); // a job's own retentionDays
    storage.grantObjects(consumer, 's3:DeleteObject', outputs); // a failed job's copies (DeleteObjects)
    storage.grantObjects(consumer, 's3:GetObject', webhookBodies);
    queues.grantSendCallbacks(consumer);

    // reconciler: the unfinished index, the jobs it ends or polls, Replicate's token, the queue it feeds; the
    // waiting line's size (a metric) and a kick for the admitter when jobs wait.
    storage.grantQueryIndex(reconciler, 'unfinished');
    storage.grantQueryIndex(reconciler, 'waiting');
    queues.grantWakeAdmitter(reconciler);
    storage.grantJobItems(reconciler, 'GetItem', 'UpdateItem');
    secrets.grantReadApiToken(reconciler);
    queues.grantSendEvents(reconciler);
    queues.grantSendCallbacks(reconciler);
    storage.grantObjects(reconciler, 's3:PutObject', webhookBodies);

    // callbacks: its event source (backoff by changing a message's visibility; a callback that must wait is
    // sent again, delayed; one out of attempts goes to the DLQ), the job and its delivery log, the owner's
    // `callbacks#` item (leases, failures), the signing key, and the outputs its payload links to (presigned)
    // or includes (results).
    queues.grantConsumeCallbacks(callbacks);
    storage.grantJobItems(callbacks, 'GetItem', 'UpdateItem');
    secrets.grantReadCallbackSigningKey(callbacks);
    storage.grantReadOutputs(callbacks);

    // admitter: its kicks, the waiting line, the jobs it starts (or fails), the admission items, the token, and
    // the callback of a job Replicate refused.
    queues.grantConsumeAdmissions(admitter);
    storage.grantQueryIndex(admitter, 'waiting');
    storage.grantJobItems(admitter, 'GetItem', 'UpdateItem');
    secrets.grantReadApiToken(admitter);
    queues.grantSendCallbacks(admitter);
    storage.grantObjects(admitter, 's3:GetObject', uploads); // the input's uploads, presigned for Replicate
  }
}

/** What every function is told: resource names and tuning by the contract's names, never a secret's value. */
function functionEnvironment(p: JobsFunctionsProps, consumerTimeout: Duration): Record<string, string> {
  const { props, storage, queues, secrets } = p;
  const seconds = (duration: Duration | undefined, fallback: number) =>
    String((duration ?? Duration.seconds(fallback)).toSeconds({ integral: false }));
  return {
    [ENV.tableName]: storage.table.tableName,
    [ENV.bucketName]: storage.bucket.bucketName,
    [ENV.queueUrl]: queues.queue.queueUrl,
    [ENV.callbackQueueUrl]: queues.callbackQueue.queueUrl,
    [ENV.callbackDeadLetterQueueUrl]: queues.callbackDeadLetterQueue.queueUrl,
    [ENV.admissionQueueUrl]: queues.admissionQueue.queueUrl,
    [ENV.replicateCreatesPerMinute]: String(props.replicateCreatesPerMinute ?? DEFAULTS.replicateCreatesPerMinute),
    [ENV.indexShards]: String(props.indexShards ?? DEFAULTS.indexShards),
    [ENV.callbackKeySecret]: secrets.callbackSigningKey.secretArn,
    [ENV.apiTokenSecret]: secrets.apiToken.secretArn,
    [ENV.webhookSecret]: secrets.webhookSecret.secretArn,
    [ENV.replicateBaseUrl]: p.replicateApiBaseUrl,
    [ENV.maxOutputBytes]: String(props.maxOutputBytes ?? DEFAULTS.maxOutputBytes),
    [ENV.maxUploadBytes]: String(props.maxUploadBytes ?? DEFAULTS.maxUploadBytes),
    [ENV.uploadRetentionDays]: String(props.uploadRetention?.toDays() ?? DEFAULTS.uploadRetentionDays),
    ...(props.outputRetention ? { [ENV.outputRetentionDays]: String(props.outputRetention.toDays()) } : {}),
    [ENV.maxOutputFiles]: String(props.maxOutputFiles ?? DEFAULTS.maxOutputFiles),
    [ENV.maxOutputTotalBytes]: String(props.maxOutputTotalBytes ?? DEFAULTS.maxOutputTotalBytes),
    [ENV.presignedUrlSeconds]: String(
      (props.presignedUrlExpiry ?? Duration.seconds(DEFAULTS.presignedUrlSeconds)).toSeconds(),
    ),
    [ENV.maxPreferWaitSeconds]: String(props.maxPreferWaitSeconds ?? DEFAULTS.maxPreferWaitSeconds),
    [ENV.transferLeaseSeconds]: String(consumerTimeout.toSeconds()),
    [ENV.downloadTimeoutSeconds]: String(downloadTimeoutSecondsFor(consumerTimeout.toSeconds())),
    [ENV.jobTimeoutSeconds]: seconds(props.jobTimeout, DEFAULTS.jobTimeoutSeconds),
    [ENV.reconcileAfterSeconds]: seconds(props.reconcileAfter, DEFAULTS.reconcileAfterSeconds),
    [ENV.reconcileBatchSize]: String(props.reconcileBatchSize ?? DEFAULTS.reconcileBatchSize),
    [ENV.downloadAttempts]: String(props.downloadRetry?.attempts ?? DEFAULTS.downloadAttempts),
    [ENV.downloadRetryBaseMs]: String(
      (props.downloadRetry?.baseDelay ?? Duration.millis(DEFAULTS.downloadRetryBaseMs)).toMilliseconds(),
    ),
    [ENV.callbackRetryBaseSeconds]: seconds(props.callbackRetryBase, DEFAULTS.callbackRetryBaseSeconds),
    // Validated here, so a typo fails `cdk synth` instead of every submit.
    [ENV.ownerLimits]: JSON.stringify(OwnerLimitsSetting.parse(props.ownerLimits ?? { default: DEFAULTS.ownerLimits })),
    ...(props.prices ? { [ENV.prices]: JSON.stringify(PriceTableSetting.parse(props.prices)) } : {}),
    [ENV.refundFailuresWithoutOutput]: String(
      props.dailyCredits?.failuresWithoutOutput ?? DEFAULTS.dailyCredits.failuresWithoutOutput,
    ),
    [ENV.refundClientCancels]: String(props.dailyCredits?.clientCancels ?? DEFAULTS.dailyCredits.clientCancels),
    POWERTOOLS_SERVICE_NAME: 'replicate-jobs',
    NODE_OPTIONS: '--enable-source-maps',
    // Unset, the functions allow Replicate's file hosts plus the API base URL's host (settings.ts).
    ...(props.outputHosts ? { [ENV.outputHosts]: props.outputHosts.join(',') } : {}),
    ...(props.publicUrl ? { [ENV.publicUrl]: props.publicUrl } : {}),
    ...(props.localNetwork?.allowPlainHttp ? { [ENV.allowPlainHttp]: 'true' } : {}),
    ...(props.localNetwork?.allowPrivateAddresses ? { [ENV.allowPrivateAddresses]: 'true' } : {}),
  };
}

/**
 * An SQS event source without CDK's automatic `grantConsumeMessages` (which adds GetQueueUrl and
 * ChangeMessageVisibility that Lambda's poller never calls): the grants are given in `grantLeastPrivilege`.
 */
function sqsEventSource(
  fn: lambda.Function,
  queue: sqs.IQueue,
  options: Omit<lambda.EventSourceMappingOptions, 'eventSourceArn'>,
) {
  // The id SqsEventSource gives it, so a deployed stack keeps its mapping.
  return fn.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
    ...options,
    eventSourceArn: queue.queueArn,
  });
}

const capitalize = (name: string) => name[0].toUpperCase() + name.slice(1);
