import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Limits, LimitsSetting } from '../lambdas/core/owner-limits';
import type { PriceTable } from '../lambdas/core/prices';

/** Steady requests per second and burst, as API Gateway throttles them (a token bucket). */
export interface Throttle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/**
 * When each alarm fires (`ReplicateJobs.alarms`). Counts are judged over 5 minutes, queue gauges at their
 * maximum over 1 minute; an alarm fires at or above its threshold.
 */
export interface AlarmThresholds {
  /**
   * Age of the oldest webhook event still waiting for the consumer (alarm `QueueBacklog`).
   * @default Duration.minutes(15) (Replicate deletes outputs about an hour after a prediction ends)
   */
  readonly maxMessageAge?: Duration;
  /**
   * Messages in the event dead-letter queue (alarm `DeadLetters`).
   * @default 1
   */
  readonly deadLetterMessages?: number;
  /**
   * Messages in the callback dead-letter queue (alarm `CallbackDeadLetters`).
   * @default 1
   */
  readonly callbackDeadLetterMessages?: number;
  /**
   * Errors of one function in 5 minutes (alarms `<Function>Errors`).
   * @default 5
   */
  readonly functionErrors?: number;
  /**
   * Throttled invocations of one function in 5 minutes (alarms `<Function>Throttles`).
   * @default 1
   */
  readonly functionThrottles?: number;
  /**
   * Percentage of API requests answered 5xx in 5 minutes, once at least 20 requests came (alarm `ApiServerErrors`).
   * @default 5
   */
  readonly apiServerErrorPercent?: number;
  /**
   * Webhooks refused for a bad signature in 5 minutes (alarm `WebhookRejections`).
   * @default 20
   */
  readonly webhookRejections?: number;
  /**
   * Webhooks refused in 5 minutes because the signing secret is unset or malformed (alarm `WebhookSecretInvalid`).
   * @default 1
   */
  readonly webhookSecretInvalid?: number;
  /**
   * Jobs failed `timeout` in 5 minutes (alarm `JobTimeouts`).
   * @default 3
   */
  readonly jobTimeouts?: number;
  /**
   * How long the oldest job waiting for capacity at Replicate may have waited (alarm `AdmissionBacklog`):
   * submissions arrive faster than the account's create rate for longer than a burst.
   * @default 5 minutes
   */
  readonly admissionWait?: Duration;
}

/** Everything `ReplicateJobs` can be told; every prop is optional and its default is the production choice. */
export interface ReplicateJobsProps {
  /**
   * Hosts the consumer may download output files from (`host`, `host:port` or `*.domain`), https only.
   * @default Replicate's file-delivery hosts, `replicate.delivery` and `*.replicate.delivery`, plus the host of
   * `replicateApiBaseUrl`
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
   * At most this many quiet jobs the reconciler examines (polls at Replicate) per run, shared fairly between
   * owners. With N quiet jobs, each is examined at least every ceil(N / batch) runs. Replicate allows about
   * 3 000 GETs a minute per account: keep batch / interval well below that.
   * @default 1000
   */
  readonly reconcileBatchSize?: number;
  /**
   * Predictions created at Replicate per minute by every function together: the account's create limit.
   * Submissions above it (or that Replicate answers 429) are accepted and wait (`queued`, `waitingSince`);
   * the admitter creates them at this pace, owners in turn. Raise it with the limit Replicate grants you.
   * @default 600
   */
  readonly replicateCreatesPerMinute?: number;
  /**
   * Keys each sparse index (unfinished jobs, waiting jobs) spreads its jobs over: one partition takes about
   * 1 000 writes a second, and a job writes each index about twice (docs/scale.md). 1–100.
   * @default 32
   */
  readonly indexShards?: number;
  /**
   * Per-owner limits: jobs in flight, jobs per UTC day and submissions Replicate refused per minute, by
   * default and per owner (API key id).
   * @default 50 in flight, 10 000 a day and 20 refusals a minute for every owner
   */
  readonly ownerLimits?: { default: LimitsSetting; owners?: Record<string, Partial<Limits>> };
  /**
   * What each model (or deployment) costs, `owner/name` → `{ perSecondUsd }` (of predict time) or `{ perOutputUsd }`
   * (per stored output file), for `GET /usage`'s `estimatedCostUsd` and the owners' `maxCostPerDayUsd` budgets.
   * A job on a model not listed counts no cost (`unpricedJobs`). Prices are read when a job ends: a change counts
   * from then on, never rewriting days already recorded.
   * @default no prices: every estimated cost is `null`
   */
  readonly prices?: PriceTable;
  /**
   * Which ended jobs give their place in the owner's jobs per day (`maxPerDay`) back.
   * `failuresWithoutOutput`: a job that failed before producing output (Replicate's error, our timeout);
   * `clientCancels`: a job the client canceled.
   * @default { failuresWithoutOutput: true, clientCancels: false }
   */
  readonly dailyCredits?: { readonly failuresWithoutOutput?: boolean; readonly clientCancels?: boolean };
  /**
   * Where alarms notify. Subscribe an email, chat or pager endpoint to it.
   * @default a new SNS topic
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When each alarm fires; a field left out keeps its default.
   * @default the default of each `AlarmThresholds` field
   */
  readonly alarmThresholds?: AlarmThresholds;
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
   * Concurrency reserved for the consumer out of the account's Lambda concurrency, so a flood of webhooks or
   * API calls cannot take every execution environment and stall the queue. It also caps the consumer, so it
   * must be at least `consumerMaxConcurrency` (the synth fails otherwise: the event source would be throttled
   * and its messages, received again and again, would reach the dead-letter queue). Lambda keeps at least 100
   * of an account's concurrency unreserved: a deploy that reserves more than the account's limit minus 100
   * (all reservations together) fails; on an account with a low limit (a new account's may be 10), pass `false`.
   * @default `consumerMaxConcurrency`
   */
  readonly consumerReservedConcurrency?: number | false;
  /**
   * Event streams (`GET /jobs/{id}/events`) open at once, every owner together: concurrency reserved for the events
   * function, which holds one execution environment per stream for up to 5 minutes. It keeps watchers from taking
   * the account's concurrency from every other function (submits, webhooks, reads); past it, a new stream is
   * throttled (API Gateway answers 500) and clients fall back to polling. Lambda keeps at least 100 of an account's
   * concurrency unreserved (see `consumerReservedConcurrency`); `false` reserves nothing and caps nothing.
   * @default 100
   */
  readonly eventStreamConcurrency?: number | false;
  /**
   * The longest `Prefer: wait` a create request (`POST /jobs`, `POST /v1/.../predictions`) is held for, in seconds,
   * 1 to 60 (Replicate's own longest). Above 25 the submit function's timeout and its integration's grow to match
   * (the wait plus 4 s): API Gateway's integration timeout is 29 s unless the account's quota was raised (regional
   * and private REST APIs can ask for more), so raise that first.
   * @default 25
   */
  readonly maxPreferWaitSeconds?: number;
  /**
   * Lifetime of the presigned output URLs `GET /jobs/{id}` answers with.
   * @default Duration.hours(1)
   */
  readonly presignedUrlExpiry?: Duration;
  /**
   * Largest file `POST /uploads` signs an upload URL for (its exact size is signed: S3 refuses any other).
   * At most 5 GiB, S3's largest single PUT.
   * @default 100 MiB (the largest file Replicate accepts as a URL input)
   */
  readonly maxUploadBytes?: number;
  /**
   * How long an uploaded input file is kept: a lifecycle rule deletes `uploads/` objects this long after they were
   * uploaded, and a job submitted after that cannot name them (`unknown_upload`). Whole days.
   * @default Duration.days(7)
   */
  readonly uploadRetention?: Duration;
  /**
   * How long every job's stored objects (output copies, derivatives, large outputs) are kept: a lifecycle rule
   * deletes them this long after they were written. A job's own `retentionDays` can only shorten it. Whole days.
   * @default - kept until the job is deleted (`DELETE /jobs/{id}`)
   */
  readonly outputRetention?: Duration;
  /**
   * Largest output file copied; a larger one fails the job with `output_too_large`.
   * @default 5 GiB
   */
  readonly maxOutputBytes?: number;
  /**
   * Most files one job stores: a prediction with more fails with `too_many_outputs` before anything is
   * downloaded. A whole number up to 250 (each file's record is kept in the job's item).
   * @default 100
   */
  readonly maxOutputFiles?: number;
  /**
   * Most bytes one job's files take together: past it the job fails with `outputs_total_too_large` and the
   * files already copied are deleted.
   * @default 5 GiB (one file of the default `maxOutputBytes`)
   */
  readonly maxOutputTotalBytes?: number;
  /**
   * How long a received event stays invisible before SQS delivers it again (after a consumer failure). At
   * least `consumerTimeout` (AWS refuses less, and the synth fails).
   * @default six times `consumerTimeout` (AWS's advice for SQS event sources)
   */
  readonly eventQueueVisibilityTimeout?: Duration;
  /**
   * Attempts per output file at a transient download error (5xx, a cut connection), and the first delay of
   * the jittered exponential backoff between them.
   * @default { attempts: 4, baseDelay: Duration.seconds(1) }
   */
  readonly downloadRetry?: { attempts: number; baseDelay: Duration };
  /**
   * First delay before a failed client callback is tried again; it doubles per attempt, at most 15 min.
   * @default Duration.seconds(10)
   */
  readonly callbackRetryBase?: Duration;
  /**
   * Turns network guards OFF, for running the stack on one machine (the local stack sets this; it shows in
   * the template as `ALLOW_PLAIN_HTTP` / `ALLOW_PRIVATE_ADDRESSES`). `allowPlainHttp` lets output downloads
   * and client callbacks use http; `allowPrivateAddresses` lets them reach loopback, private and link-local
   * addresses. Never set it for a deployed stack.
   * @default every guard on: https only, public addresses only
   */
  readonly localNetwork?: { allowPlainHttp?: boolean; allowPrivateAddresses?: boolean };
  /**
   * Receives of a message before it goes to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Steady-state requests per second and burst allowed per API key by the usage plan.
   * @default { rateLimit: 20, burstLimit: 40 }
   */
  readonly throttle?: Throttle;
  /**
   * Stage throttle of `POST /webhooks/replicate`, which no API key (so no usage plan) covers: all callers
   * together, forged deliveries included, get this rate and burst; past it API Gateway answers 429 before
   * any function runs. Replicate retries a throttled terminal webhook and the reconciler polls quiet jobs.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly webhookThrottle?: Throttle;
  /**
   * Stage throttle of each other method no API key covers, `GET /health` and `GET /openapi.json` (all callers
   * together, per method).
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly publicThrottle?: Throttle;
  /**
   * An AWS WAF web ACL (REGIONAL) on the API stage, with one rule: an IP address making more than
   * `rateLimitPer5Minutes` requests in 5 minutes is blocked (403) until its rate falls back (at least 10, as
   * WAF requires). WAF is billed per web ACL, rule and request.
   * @default no web ACL
   */
  readonly waf?: { rateLimitPer5Minutes: number };
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
